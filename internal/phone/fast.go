package phone

import (
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// The fast path answers Parse for the numbers files and tills actually carry
// ("07400 123456", "+44 7400 123456", "0044-7400-123456") without
// libphonenumber's regular expressions, which were most of an import's CPU.
// It follows the library's parse step by step on its own metadata, with the
// number patterns turned into digit automata (digitDFA), and only for inputs
// and regions where every step is plain digit work: anything else (letters,
// extensions, a region whose national prefix is a pattern with a transform,
// non-geographic codes, very short input) returns handled=false and goes to
// the library. TestFastParse_* compare the two on the test corpus, on every
// example number of every region and on a million generated inputs;
// FuzzFastParse keeps comparing them.

// fastRegion is one region's metadata compiled for the fast path.
type fastRegion struct {
	md   *phonenumbers.PhoneMetadata
	cc   int
	ccS  string
	idd  string   // international prefix, a digit literal
	nat  []string // national prefix for parsing: digit literals, in the pattern's order
	ok   bool     // idd and nat are literals and there is no transform rule
	desc [numDescs]fastDesc
	// leading is the region's leading-digits pattern, nil if it has none.
	leading *digitDFA
	types   bool // desc and leading compiled
}

// fastDesc is a PhoneNumberDesc compiled: its possible lengths and pattern.
type fastDesc struct {
	lengths []int32
	dfa     *digitDFA
}

// The descs getNumberTypeHelper consults, in its order.
const (
	descGeneral = iota
	descPremium
	descTollFree
	descShared
	descVoip
	descPersonal
	descPager
	descUAN
	descVoicemail
	descFixed
	descMobile
	numDescs
)

var descType = [numDescs]phonenumbers.PhoneNumberType{
	descPremium: phonenumbers.PREMIUM_RATE, descTollFree: phonenumbers.TOLL_FREE, descShared: phonenumbers.SHARED_COST,
	descVoip: phonenumbers.VOIP, descPersonal: phonenumbers.PERSONAL_NUMBER, descPager: phonenumbers.PAGER,
	descUAN: phonenumbers.UAN, descVoicemail: phonenumbers.VOICEMAIL,
}

// matches is the library's isNumberMatchingDesc.
func (d *fastDesc) matches(nsn string) bool {
	if len(d.lengths) > 0 {
		found := false
		for _, l := range d.lengths {
			found = found || int(l) == len(nsn)
		}
		if !found {
			return false
		}
	}
	return d.dfa.full(nsn)
}

// fastMeta holds the compiled regions, built lazily: a run that only sees
// British numbers compiles Britain's four regions and nothing else.
var fastMeta struct {
	once     sync.Once
	byRegion map[string]*phonenumbers.PhoneMetadata
	codes    map[int]bool
	compiled sync.Map // region -> *fastRegion (nil entry: not usable)
}

func loadFastMeta() {
	fastMeta.byRegion = map[string]*phonenumbers.PhoneMetadata{}
	coll, err := phonenumbers.MetadataCollection()
	if err == nil {
		for _, md := range coll.GetMetadata() {
			fastMeta.byRegion[md.GetId()] = md
		}
	}
	fastMeta.codes = phonenumbers.GetSupportedCallingCodes()
}

// regionFor returns the compiled region, or nil where the fast path cannot
// follow the library for it.
func regionFor(region string) *fastRegion {
	fastMeta.once.Do(loadFastMeta)
	if region == "001" { // the non-geographic entities share this id
		return nil
	}
	if r, ok := fastMeta.compiled.Load(region); ok {
		return r.(*fastRegion)
	}
	r := compileRegion(fastMeta.byRegion[region])
	actual, _ := fastMeta.compiled.LoadOrStore(region, r)
	return actual.(*fastRegion)
}

func compileRegion(md *phonenumbers.PhoneMetadata) *fastRegion {
	if md == nil {
		return nil
	}
	r := &fastRegion{md: md, cc: int(md.GetCountryCode()), idd: md.GetInternationalPrefix()}
	r.ccS = strconv.Itoa(r.cc)
	// A national prefix such as "0|180020" is literals in alternation:
	// Go's regexp, leftmost-first, takes the first one listed that the
	// number starts with.
	nat := md.GetNationalPrefixForParsing()
	r.ok = isDigits(r.idd) && isDigits(strings.ReplaceAll(nat, "|", "")) && md.GetNationalPrefixTransformRule() == ""
	if nat != "" {
		r.nat = strings.Split(nat, "|")
	}
	descs := [numDescs]*phonenumbers.PhoneNumberDesc{
		md.GetGeneralDesc(), md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(), md.GetVoip(),
		md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine(), md.GetMobile(),
	}
	r.types = true
	for i, d := range descs {
		dfa, err := compileDigits(d.GetNationalNumberPattern())
		if err != nil {
			r.types, r.ok = false, false
			break
		}
		var lengths []int32
		if d != nil {
			lengths = d.PossibleLength
		}
		r.desc[i] = fastDesc{lengths: lengths, dfa: dfa}
	}
	if ld := md.GetLeadingDigits(); ld != "" && r.types {
		dfa, err := compileDigits(ld)
		if err != nil {
			r.types, r.ok = false, false
		}
		r.leading = dfa
	}
	return r
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// stripNationalPrefix is the library's maybeStripNationalPrefixAndCarrierCode
// for literal prefixes without transform (so no carrier code).
func (r *fastRegion) stripNationalPrefix(n string) string {
	if len(n) == 0 {
		return n
	}
	for _, p := range r.nat {
		if !strings.HasPrefix(n, p) {
			continue
		}
		general := r.desc[descGeneral].dfa
		if general.full(n) && !general.full(n[len(p):]) {
			return n
		}
		return n[len(p):]
	}
	return n
}

// testLength is the library's testNumberLength for type UNKNOWN (the general
// desc).
func (r *fastRegion) testLength(n string) phonenumbers.ValidationResult {
	g := r.md.GetGeneralDesc()
	possible := g.PossibleLength
	if len(possible) == 0 || possible[0] == -1 { // the library would index out of range on none
		return phonenumbers.INVALID_LENGTH
	}
	if possible[0] == -1 {
		return phonenumbers.INVALID_LENGTH
	}
	actual := int32(len(n))
	for _, l := range g.PossibleLengthLocalOnly {
		if l == actual {
			return phonenumbers.IS_POSSIBLE_LOCAL_ONLY
		}
	}
	switch {
	case possible[0] == actual:
		return phonenumbers.IS_POSSIBLE
	case possible[0] > actual:
		return phonenumbers.TOO_SHORT
	case possible[len(possible)-1] < actual:
		return phonenumbers.TOO_LONG
	}
	for _, l := range possible[1:] {
		if l == actual {
			return phonenumbers.IS_POSSIBLE
		}
	}
	return phonenumbers.INVALID_LENGTH
}

// numberType is the library's getNumberTypeHelper.
func (r *fastRegion) numberType(nsn string) phonenumbers.PhoneNumberType {
	if !r.desc[descGeneral].matches(nsn) {
		return phonenumbers.UNKNOWN
	}
	for i := descPremium; i <= descVoicemail; i++ {
		if r.desc[i].matches(nsn) {
			return descType[i]
		}
	}
	same := r.md.GetSameMobileAndFixedLinePattern()
	if r.desc[descFixed].matches(nsn) {
		if same || r.desc[descMobile].matches(nsn) {
			return phonenumbers.FIXED_LINE_OR_MOBILE
		}
		return phonenumbers.FIXED_LINE
	}
	if !same && r.desc[descMobile].matches(nsn) {
		return phonenumbers.MOBILE
	}
	return phonenumbers.UNKNOWN
}

// fastNumberType is the library's GetNumberType for country code cc and
// national significant number nsn; ok is false where a region of cc could not
// be compiled.
func fastNumberType(cc int, nsn string) (t phonenumbers.PhoneNumberType, ok bool) {
	regions := phonenumbers.GetRegionCodesForCountryCode(cc)
	if len(regions) == 0 {
		return phonenumbers.UNKNOWN, true
	}
	var found *fastRegion
	if len(regions) == 1 {
		if found = regionFor(regions[0]); found == nil || !found.types {
			return 0, false
		}
	} else {
		for _, code := range regions {
			r := regionFor(code)
			if r == nil || !r.types {
				return 0, false
			}
			if r.leading != nil {
				if r.leading.prefix(nsn) {
					found = r
					break
				}
			} else if r.numberType(nsn) != phonenumbers.UNKNOWN {
				found = r
				break
			}
		}
	}
	if found == nil {
		return phonenumbers.UNKNOWN, true
	}
	return found.numberType(nsn), true
}

// fastDigits is the most digits the fast path takes (a 3-digit IDD, a 3-digit
// country code and a 17-digit number would be more: those go to the library).
const fastDigits = 20

// fastNumber is libphonenumber's Parse(s, region) for the inputs it handles:
// s is trimmed and non-empty, region upper case. The number it returns has
// the fields Parse sets (country code, national number, leading zeros); err
// is the library's error for the same input.
func fastNumber(s, region string) (num *phonenumbers.PhoneNumber, err error, handled bool) {
	fastMeta.once.Do(loadFastMeta)
	var buf [fastDigits]byte
	d := buf[:0]
	plus := s[0] == '+'
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if len(d) == fastDigits {
				return nil, nil, false
			}
			d = append(d, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+' && i == 0:
		default:
			return nil, nil, false
		}
	}
	// Short input meets the library's special cases (two-digit numbers,
	// too short after the IDD): leave them to it.
	if len(d) < 7 {
		return nil, nil, false
	}
	digits := string(d)
	// m is the metadata the library goes on with: the default region's
	// unless a country code was read from the number, then that code's
	// main region's.
	var m *fastRegion
	var national string
	cc := 0
	if plus {
		if cc, national = extractCountryCode(digits); cc == 0 {
			return nil, nil, false
		}
	} else {
		r := regionFor(region)
		if r == nil || !r.ok {
			return nil, nil, false
		}
		m, national = r, digits
		switch {
		case strings.HasPrefix(digits, r.idd) && !(len(digits) > len(r.idd) && digits[len(r.idd)] == '0'):
			rest := digits[len(r.idd):]
			if len(rest) <= 2 {
				return nil, nil, false
			}
			if cc, national = extractCountryCode(rest); cc == 0 {
				return nil, nil, false
			}
		case strings.HasPrefix(digits, r.ccS):
			pot := r.stripNationalPrefix(digits[len(r.ccS):])
			general := r.desc[descGeneral].dfa
			if (!general.full(digits) && general.full(pot)) || r.testLength(digits) == phonenumbers.TOO_LONG {
				cc, national = r.cc, pot
			}
		}
		if cc == 0 {
			cc = r.cc
		} else if main := phonenumbers.GetRegionCodeForCountryCode(cc); main != region {
			m = regionFor(main)
		}
	}
	if m == nil { // read after a plus
		m = regionFor(phonenumbers.GetRegionCodeForCountryCode(cc))
	}
	if m == nil || !m.ok {
		return nil, nil, false
	}
	if len(national) < 2 {
		return nil, phonenumbers.ErrTooShortNSN, true
	}
	if pot := m.stripNationalPrefix(national); pot != national {
		switch m.testLength(pot) {
		case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
		default:
			national = pot
		}
	}
	if len(national) < 2 {
		return nil, phonenumbers.ErrTooShortNSN, true
	}
	if len(national) > 17 {
		return nil, phonenumbers.ErrNumTooLong, true
	}
	v, _ := strconv.ParseUint(national, 10, 64)
	num = &phonenumbers.PhoneNumber{CountryCode: ptr(int32(cc)), NationalNumber: ptr(v)}
	if len(national) >= 2 && national[0] == '0' {
		num.ItalianLeadingZero = ptr(true)
		zeros := 1
		for zeros < len(national)-1 && national[zeros] == '0' {
			zeros++
		}
		if zeros != 1 {
			num.NumberOfLeadingZeros = ptr(int32(zeros))
		}
	}
	return num, nil, true
}

func ptr[T any](v T) *T { return &v }

// extractCountryCode is the library's: the shortest prefix of up to three
// digits that is a calling code, and the digits after it.
func extractCountryCode(d string) (int, string) {
	if d[0] == '0' {
		return 0, ""
	}
	for i := 1; i <= 3 && i <= len(d); i++ {
		cc, _ := strconv.Atoi(d[:i])
		if fastMeta.codes[cc] {
			return cc, d[i:]
		}
	}
	return 0, ""
}
