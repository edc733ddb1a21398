package keyword

import "testing"

// checkParse runs tab.Parse over msg -> want cases and reports every miss.
func checkParse(t *testing.T, tab *Table, cases map[string]Match) {
	t.Helper()
	for msg, want := range cases {
		if got := tab.Parse(msg); got != want {
			t.Errorf("Parse(%q) = %+v, want %+v", msg, got, want)
		}
	}
}

func TestParse_StopVariantsAreAllHonoured(t *testing.T) {
	checkParse(t, Default(), map[string]Match{
		"stop":                   {Stop, "STOP", ""},
		" STOP. ":                {Stop, "STOP", ""},
		"Stop!!":                 {Stop, "STOP", ""},
		`"STOP"`:                 {Stop, "STOP", ""},
		"“Stop”":                 {Stop, "STOP", ""},
		"stop all":               {Stop, "STOP ALL", ""},
		"STOPALL":                {Stop, "STOPALL", ""},
		"Stop-All":               {Stop, "STOP ALL", ""},
		"Opt-Out":                {Stop, "OPT OUT", ""},
		"OPT_OUT":                {Stop, "OPT OUT", ""},
		"optout":                 {Stop, "OPTOUT", ""},
		"opt out please":         {Stop, "OPT OUT", "please"},
		"UNSUBSCRIBE":            {Stop, "UNSUBSCRIBE", ""},
		"UNSUBSCRIBE please":     {Stop, "UNSUBSCRIBE", "please"},
		"un subscribe":           {Stop, "UNSUBSCRIBE", ""},
		"cancel":                 {Stop, "CANCEL", ""},
		"end":                    {Stop, "END", ""},
		"quit":                   {Stop, "QUIT", ""},
		"revoke":                 {Stop, "REVOKE", ""},
		"STOP sending these":     {Stop, "STOP", "sending these"},
		"Stop, thank you":        {Stop, "STOP", "thank you"},
		"stop now":               {Stop, "STOP", "now"},
		"please stop":            {Stop, "STOP", ""},
		"Please, STOP texting!":  {Stop, "STOP", "texting!"},
		"thank you. unsubscribe": {Stop, "UNSUBSCRIBE", ""},
		"please opt-out":         {Stop, "OPT OUT", ""},
		"stop\u00a0please":       {Stop, "STOP", "please"}, // no-break space
		"\tSTOP\r\n":             {Stop, "STOP", ""},
	})
}

// A STOP alias as the first word wins even over another keyword's alias, so
// an opt-out is never read as anything else.
func TestParse_StopInTheFirstWordWinsOverEverythingAfterIt(t *testing.T) {
	checkParse(t, Default(), map[string]Match{
		"STOP JOIN":        {Stop, "STOP", "JOIN"},
		"cancel my points": {Stop, "CANCEL", "my points"},
		"end offers":       {Stop, "END", "offers"},
	})
}

func TestParse_WordsThatMerelyStartWithAKeywordAreUnknown(t *testing.T) {
	checkParse(t, Default(), map[string]Match{
		"stopped":         {Unknown, "", "stopped"},
		"STOPS":           {Unknown, "", "STOPS"},
		"Stopping by!":    {Unknown, "", "Stopping by!"},
		"joined":          {Unknown, "", "joined"},
		"helpful":         {Unknown, "", "helpful"},
		"yesterday":       {Unknown, "", "yesterday"},
		"ending":          {Unknown, "", "ending"},
		"stop2":           {Unknown, "", "stop2"},
		"subscribe":       {Unknown, "", "subscribe"}, // deliberately not JOIN
		"S T O P":         {Unknown, "", "S T O P"},   // spaced letters are not handled
		"don't stop":      {Unknown, "", "don't stop"},
		"please":          {Unknown, "", "please"},
		"please join Ann": {Unknown, "", "please join Ann"}, // filler only ever precedes STOP
	})
}

func TestParse_EachKeywordAnswersToItsEnglishAliases(t *testing.T) {
	checkParse(t, Default(), map[string]Match{
		"JOIN":       {Join, "JOIN", ""},
		"signup":     {Join, "SIGNUP", ""},
		"Sign up":    {Join, "SIGN UP", ""},
		"start":      {Start, "START", ""},
		"UNSTOP":     {Start, "UNSTOP", ""},
		"help":       {Help, "HELP", ""},
		"Info?":      {Help, "INFO", ""},
		"help me":    {Help, "HELP", "me"},
		"bal":        {Points, "BAL", ""},
		"Balance":    {Points, "BALANCE", ""},
		"points":     {Points, "POINTS", ""},
		"offers":     {Offers, "OFFERS", ""},
		"Deals!":     {Offers, "DEALS", ""},
		"code":       {Code, "CODE", ""},
		"CARD":       {Code, "CARD", ""},
		"yes":        {Yes, "YES", ""},
		"Y":          {Yes, "Y", ""},
		"y.":         {Yes, "Y", ""},
		"yes please": {Yes, "YES", "please"},
		"'Yes'":      {Yes, "YES", ""},
	})
}

func TestParse_EmptyEmojiAndUnmatchedMessagesAreUnknownWithTheTrimmedText(t *testing.T) {
	checkParse(t, Default(), map[string]Match{
		"":                  {Unknown, "", ""},
		"   ":               {Unknown, "", ""},
		"👍":                 {Unknown, "", "👍"},
		" 👍🏽 ":              {Unknown, "", "👍🏽"},
		"?!":                {Unknown, "", "?!"},
		"hello there":       {Unknown, "", "hello there"},
		"  Hello there!  ":  {Unknown, "", "Hello there!"},
		"\xff\xfe stop":     {Stop, "STOP", ""}, // invalid bytes are separators
		"\xffhello\xfe":     {Unknown, "", "\xffhello\xfe"},
		"st\xffop":          {Stop, "STOP", ""}, // two words run together, like "OPT OUT"
		"what are my deals": {Unknown, "", "what are my deals"},
	})
}

func TestParse_NilAndZeroTablesKnowNoAliases(t *testing.T) {
	var nilTable *Table
	for _, tab := range []*Table{nilTable, {}} {
		if got, want := tab.Parse(" STOP "), (Match{Args: "STOP"}); got != want {
			t.Errorf("Parse on an empty table = %+v, want %+v", got, want)
		}
	}
}
