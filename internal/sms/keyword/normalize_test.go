package keyword

import (
	"slices"
	"testing"
)

func TestNormalize_UpperCasesFoldsAccentsAndSplitsOnNonLetters(t *testing.T) {
	for in, want := range map[string][]string{
		"":                       nil,
		"  !!  ":                 nil,
		"👍":                      nil,
		"stop":                   {"STOP"},
		"  Opt-Out!! ":           {"OPT", "OUT"},
		"opt__out":               {"OPT", "OUT"},
		"Ann-Marie O'Neil":       {"ANN", "MARIE", "O", "NEIL"},
		"àáâäãåā ÀÁÂÄÃÅĀ":        {"AAAAAAA", "AAAAAAA"},
		"éèêë ÉÈÊË íìîï ÍÌÎÏ":    {"EEEE", "EEEE", "IIII", "IIII"},
		"óòôöõø ÓÒÔÖÕØ":          {"OOOOOO", "OOOOOO"},
		"úùûü ÚÙÛÜ çÇ ñÑ":        {"UUUU", "UUUU", "CC", "NN"},
		"Straße STRASSE ẞ":       {"STRASSE", "STRASSE", "SS"},
		"œuvre Æble ÿ":           {"OEUVRE", "AEBLE", "Y"},
		"jo\u0301in":             {"JOIN"}, // decomposed accent
		"\u0301stop":             {"STOP"}, // a stray mark is a separator
		"stop\xffnow":            {"STOP", "NOW"},
		"Ωmega привет":           {"ΩMEGA", "ПРИВЕТ"}, // other scripts upper-cased, not folded
		"123 abc4":               {"123", "ABC4"},
		"\"ARRÊT\"":              {"ARRET"},
		"inscription\u00a0Marie": {"INSCRIPTION", "MARIE"},
		"ＳＴＯＰ ｓｔｏｐ":              {"STOP", "STOP"}, // full-width
		"𝐒𝐓𝐎𝐏 𝘀𝘁𝗼𝗽":              {"STOP", "STOP"}, // mathematical bold and sans
		"ⓈⓉⓄⓅ":                   {"STOP"},         // circled letters are symbols that NFKC reads as letters
		"ﬆop ﬁn":                 {"STOP", "FIN"},  // ligatures
		"ＳＴＯＰ！":                  {"STOP"},
		"１２３":                    {"123"},
		"ͺ":                      {"ͺ"}, // NFKC gives a space and a combining mark: the letter stays itself
	} {
		if got := Normalize(in); !slices.Equal(got, want) {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParse_AccentsAndCaseAreTolerated(t *testing.T) {
	checkParse(t, Default(), map[string]Match{
		"StOp":           {Stop, "STOP", ""},
		"stóp":           {Stop, "STOP", ""},
		"ÛNSÜBSCRÏBÉ":    {Stop, "UNSUBSCRIBE", ""},
		"jóin Zoë":       {Join, "JOIN", "Zoë"},
		"JÓIN Zoë":       {Join, "JOIN", "Zoë"},
		"jo\u0301in Ann": {Join, "JOIN", "Ann"},
		"hélp":           {Help, "HELP", ""},
		"Øffers":         {Offers, "OFFERS", ""},
		"ÿes":            {Yes, "YES", ""},
		"ＳＴＯＰ":           {Stop, "STOP", ""},
		"Ｓｔｏｐ please":    {Stop, "STOP", "please"},
		"please ＳＴＯＰ":    {Stop, "STOP", ""},
		"𝐒𝐓𝐎𝐏":           {Stop, "STOP", ""},
		"ⓈⓉⓄⓅ":           {Stop, "STOP", ""},
		"ＵＮＳＵＢＳＣＲＩＢＥ":    {Stop, "UNSUBSCRIBE", ""},
		"ＪＯＩＮ Ann":       {Join, "JOIN", "Ann"},
	})
}
