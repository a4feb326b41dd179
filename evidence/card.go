package evidence

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Luhn reports whether digits, a string of ASCII digits only, passes the Luhn check that
// every payment card number passes. An empty string, or one with anything but digits,
// does not.
func Luhn(digits string) bool {
	if digits == "" {
		return false
	}
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// ContainsCardNumber reports whether text shows a full payment card number, and returns
// the first one found with all but its last four digits masked ("**** **** **** 1111").
//
// A card number is 13 to 19 digits, written together or in groups separated by spaces or
// dashes, laid out as cards print them (groups of four; 4-6-5 and 4-6-4; or every digit
// apart, as OCR reads embossed digits), starting with the prefix of a card scheme in use
// and as long as that scheme's numbers are, and passing the Luhn check. Numbers that fail
// any of these — dates, phone numbers written with "+", IBANs, order and tracking numbers
// — are not card numbers; neither is a number already masked.
func ContainsCardNumber(text string) (masked string, ok bool) {
	groups := digitGroups(text)
	for i := 0; i < len(groups); {
		// A run is a sequence of groups joined only by separators.
		j := i + 1
		for j < len(groups) && joined(text[groups[j-1].end:groups[j].start]) {
			j++
		}
		if m, ok := cardInRun(text, groups[i:j]); ok {
			return m, true
		}
		i = j
	}
	return "", false
}

// group is a maximal sequence of digits in the text.
type group struct {
	start, end   int    // byte offsets in the text
	digits       string // ASCII digits
	letterBefore bool   // a letter touches the first digit
	letterAfter  bool   // a letter touches the last digit
	plusBefore   bool   // written as "+49": a phone number
}

// digitGroups finds the groups of digits of text. Fullwidth digits count as digits.
func digitGroups(text string) []group {
	var (
		gs   []group
		cur  *group
		prev rune
		sb   strings.Builder
	)
	for i, r := range text {
		d, isDigit := digitValue(r)
		if isDigit {
			if cur == nil {
				gs = append(gs, group{start: i, letterBefore: unicode.IsLetter(prev), plusBefore: prev == '+'})
				cur = &gs[len(gs)-1]
				sb.Reset()
			}
			sb.WriteByte(d)
			cur.end = i + utf8.RuneLen(r)
		} else if cur != nil {
			cur.digits = sb.String()
			cur.letterAfter = unicode.IsLetter(r)
			cur = nil
		}
		prev = r
	}
	if cur != nil {
		cur.digits = sb.String()
	}
	return gs
}

// digitValue returns the ASCII digit of r, an ASCII or fullwidth digit.
func digitValue(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '０' && r <= '９':
		return byte('0' + r - '０'), true
	}
	return 0, false
}

// joined reports whether gap, the text between two groups of digits, joins them into one
// number: one to three spaces or dashes, at most one of them a dash, and no line break.
func joined(gap string) bool {
	if gap == "" || utf8.RuneCountInString(gap) > 3 {
		return false
	}
	dashes := 0
	for _, r := range gap {
		switch r {
		case ' ', '\u00a0', '\u2009', '\u202f':
		case '-', '\u2010', '\u2011', '\u2012', '\u2013':
			dashes++
		default:
			return false
		}
	}
	return dashes <= 1
}

// ibanBefore matches the end of the text before a number that continues an IBAN: the
// country code and check digits, and any groups after them ("DE89 ", "GB29 NWBK ").
var ibanBefore = regexp.MustCompile(`(?:^|[^A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4})*[ ]?$`)

// cardInRun looks for a card number among consecutive groups of a run.
func cardInRun(text string, run []group) (string, bool) {
	for s := range run {
		if run[s].letterBefore || run[s].plusBefore {
			continue
		}
		var digits strings.Builder
		var sizes []int
		for e := s; e < len(run); e++ {
			digits.WriteString(run[e].digits)
			sizes = append(sizes, len(run[e].digits))
			n := digits.Len()
			if n > 19 {
				break
			}
			if n < 13 || run[e].letterAfter || !cardGrouping(sizes) {
				continue
			}
			d := digits.String()
			if !cardScheme(d) || !Luhn(d) {
				continue
			}
			before := text[max(0, run[s].start-48):run[s].start]
			if i := strings.LastIndexByte(before, '\n'); i >= 0 {
				before = before[i+1:]
			}
			if ibanBefore.MatchString(before) {
				continue
			}
			return mask(text[run[s].start:run[e].end]), true
		}
	}
	return "", false
}

// cardGrouping reports whether group sizes are a way card numbers are written: all
// together, every digit apart, 4-6-5 or 4-6-4, or groups of four (or of a multiple of four,
// when OCR lost a space) with a shorter last group.
func cardGrouping(sizes []int) bool {
	if len(sizes) == 1 {
		return true
	}
	ones := true
	for _, s := range sizes {
		ones = ones && s == 1
	}
	if ones {
		return true
	}
	if len(sizes) == 3 && sizes[0] == 4 && sizes[1] == 6 && (sizes[2] == 5 || sizes[2] == 4) {
		return true
	}
	for _, s := range sizes[:len(sizes)-1] {
		if s%4 != 0 {
			return false
		}
	}
	return true
}

// cardScheme reports whether a number has the prefix and the length of a card scheme's
// numbers (Visa, Mastercard, American Express, Discover, UnionPay, JCB, Diners Club,
// Maestro, Mir, RuPay, Troy).
func cardScheme(d string) bool {
	n := len(d)
	p := func(k int) int { // the first k digits as a number
		v := 0
		for i := range k {
			v = v*10 + int(d[i]-'0')
		}
		return v
	}
	between := func(k, lo, hi int) bool { v := p(k); return v >= lo && v <= hi }
	switch d[0] {
	case '2':
		return (between(4, 2221, 2720) && n == 16) || (between(4, 2200, 2204) && n >= 16) // Mastercard, Mir
	case '3':
		switch {
		case p(2) == 34 || p(2) == 37: // American Express
			return n == 15
		case between(4, 3528, 3589): // JCB
			return n >= 16
		case between(3, 300, 305) || p(4) == 3095 || p(2) == 36 || p(2) == 38 || p(2) == 39: // Diners Club
			return n >= 14
		}
		return false
	case '4': // Visa
		return n == 13 || n == 16 || n == 19
	case '5':
		if between(2, 51, 55) { // Mastercard
			return n == 16
		}
		return p(2) == 50 || p(2) >= 56 // Maestro, RuPay
	case '6': // Discover, UnionPay, Maestro, RuPay
		return true
	case '9':
		return p(4) == 9792 && n == 16 // Troy
	}
	return false
}

// mask replaces every digit of s but the last four with '*'.
func mask(s string) string {
	total := 0
	for _, r := range s {
		if _, ok := digitValue(r); ok {
			total++
		}
	}
	var b strings.Builder
	seen := 0
	for _, r := range s {
		if _, ok := digitValue(r); ok {
			seen++
			if seen <= total-4 {
				b.WriteByte('*')
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
