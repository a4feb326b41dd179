package rules

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"standing"
)

// IdentityHasher turns identity details into what Standing keeps of them: the normalised
// value's keyed hash (HMAC-SHA256 with a key derived from the server secret) and a masked
// form for people. Two accounts with the same detail, however it was written, get the same
// hash; nobody without the secret can confirm a guess of a value from its hash, and the
// hash can stay on a deny list after the account is erased.
type IdentityHasher struct {
	key []byte
}

// NewIdentityHasher derives the hashing key from the server secret. Changing the secret
// changes every hash: links already made stay, but new details no longer match old ones.
func NewIdentityHasher(secret []byte) *IdentityHasher {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("standing identity attributes v1"))
	return &IdentityHasher{key: m.Sum(nil)}
}

// hash returns the keyed hash of a normalised value of a kind.
func (h *IdentityHasher) hash(kind standing.IdentityKind, normalized string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(normalized))
	return hex.EncodeToString(m.Sum(nil))
}

// Name returns the attribute of a person's name: letters and digits in lower case, words
// sorted so "Doe, John" and "john doe" match. ok is false for a name with nothing to
// compare (no letters).
func (h *IdentityHasher) Name(raw string) (a standing.IdentityAttribute, ok bool) {
	words := strings.Fields(normalizeName(raw))
	if len(words) == 0 {
		return a, false
	}
	slices.Sort(words)
	initials := make([]string, 0, len(words))
	for _, w := range strings.Fields(normalizeName(raw)) {
		r, _ := utf8.DecodeRuneInString(w)
		initials = append(initials, string(unicode.ToUpper(r))+".")
	}
	return standing.IdentityAttribute{Kind: standing.IdentityName, Hash: h.hash(standing.IdentityName, strings.Join(words, " ")),
		Display: strings.Join(initials, " ")}, true
}

// Phone returns the attribute of a phone number, normalised to E.164. A number without a
// leading + is read in the region (an ISO 3166-1 country code, such as the account's
// country); a number that is not a valid phone number is an EINVALID error naming field.
func (h *IdentityHasher) Phone(field, raw, region string) (standing.IdentityAttribute, error) {
	e164, err := NormalizePhone(raw, region)
	if err != nil {
		return standing.IdentityAttribute{}, standing.FieldErrorf(standing.EINVALID, field, "%s", standing.ErrorMessage(err))
	}
	display := e164
	if len(e164) > 6 {
		display = e164[:3] + " ••• " + e164[len(e164)-2:]
	}
	return standing.IdentityAttribute{Kind: standing.IdentityPhone, Hash: h.hash(standing.IdentityPhone, e164), Display: display}, nil
}

// NormalizePhone returns a phone number in E.164 form (+4915112345678).
func NormalizePhone(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 40 {
		return "", standing.Errorf(standing.EINVALID, "a phone number is 3 to 40 characters, in E.164 form like +4915112345678")
	}
	region = strings.ToUpper(region)
	if region == "" || strings.HasPrefix(raw, "+") {
		region = "ZZ"
	}
	n, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", standing.Errorf(standing.EINVALID, "%q is not a phone number; write it in E.164 form like +4915112345678", raw)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Account returns the attributes of an account record's own details: its phone (read in
// the account's country when it has no +) and its name. A detail that does not normalise
// is left out; the record's values were checked when they were stored.
func (h *IdentityHasher) Account(a standing.Account) []standing.IdentityAttribute {
	var out []standing.IdentityAttribute
	if a.Phone != "" {
		if p, err := h.Phone("phone", a.Phone, a.Country); err == nil {
			out = append(out, p)
		}
	}
	if n, ok := h.Name(a.Name); ok {
		out = append(out, n)
	}
	return out
}

// Address returns the attribute of a postal address. Fields compare in lower case with
// punctuation dropped, white space collapsed and the usual street abbreviations unified;
// an address without line1 and a country is an EINVALID error naming field.
func (h *IdentityHasher) Address(field string, a standing.Address) (standing.IdentityAttribute, error) {
	line1, country := normalizeAddressPart(a.Line1), strings.ToUpper(strings.TrimSpace(a.Country))
	if line1 == "" {
		return standing.IdentityAttribute{}, standing.FieldErrorf(standing.EINVALID, field+".line1", "an address needs line1 (street and number)")
	}
	if len(country) != 2 || strings.Trim(country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return standing.IdentityAttribute{}, standing.FieldErrorf(standing.EINVALID, field+".country", "country is an ISO 3166-1 alpha-2 code such as DE, not %q", a.Country)
	}
	for _, f := range []string{a.Line1, a.Line2, a.City, a.PostalCode, a.Region} {
		if len(f) > 200 {
			return standing.IdentityAttribute{}, standing.FieldErrorf(standing.EINVALID, field, "an address field is longer than 200 characters")
		}
	}
	postal := strings.ReplaceAll(normalizeAddressPart(a.PostalCode), " ", "")
	norm := strings.Join([]string{line1, normalizeAddressPart(a.Line2), postal, normalizeAddressPart(a.City), country}, "|")
	display := country
	if len(postal) >= 2 {
		display = postal[:2] + strings.Repeat("•", len(postal)-2) + " " + country
	}
	return standing.IdentityAttribute{Kind: standing.IdentityShippingAddress, Hash: h.hash(standing.IdentityShippingAddress, norm), Display: display}, nil
}

// streetWords unifies the usual ways of writing parts of an address.
var streetWords = map[string]string{
	"street": "st", "str": "st", "strasse": "st", "straße": "st", "avenue": "ave", "av": "ave",
	"road": "rd", "boulevard": "blvd", "drive": "dr", "lane": "ln", "apartment": "apt", "suite": "ste",
	"floor": "fl", "north": "n", "south": "s", "east": "e", "west": "w", "no": "", "number": "",
}

func normalizeAddressPart(s string) string {
	// "Hauptstraße" and "Hauptstr." end in a street word glued to the name.
	s = strings.ToLower(s)
	for _, suffix := range []string{"straße", "strasse", "str."} {
		if i := strings.Index(s, suffix); i > 0 && s[i-1] != ' ' {
			s = s[:i] + " " + s[i:]
		}
	}
	words := strings.Fields(normalizeName(s))
	out := words[:0]
	for _, w := range words {
		if r, ok := streetWords[w]; ok {
			w = r
		}
		if w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// CardFingerprint returns the attribute of a payment card fingerprint, the opaque token a
// payment provider gives for a card. A value that looks like a full card number (13 to 19
// digits, spaces or dashes between them, passing the Luhn check) is refused with an EINVALID
// error naming field, so a card number is never stored, not even hashed.
func (h *IdentityHasher) CardFingerprint(field, raw string) (standing.IdentityAttribute, error) {
	fp := strings.TrimSpace(raw)
	if LooksLikeCardNumber(fp) {
		return standing.IdentityAttribute{}, standing.FieldErrorf(standing.EINVALID, field,
			"this looks like a full card number; send the payment provider's card fingerprint instead — card numbers are never accepted or stored")
	}
	if len(fp) < 6 || len(fp) > 128 || strings.IndexFunc(fp, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return standing.IdentityAttribute{}, standing.FieldErrorf(standing.EINVALID, field, "a card fingerprint is 6 to 128 printable ASCII characters without spaces")
	}
	display := fp[:4] + "…"
	return standing.IdentityAttribute{Kind: standing.IdentityCardFingerprint, Hash: h.hash(standing.IdentityCardFingerprint, fp), Display: display}, nil
}

// Device returns the attribute of a device id.
func (h *IdentityHasher) Device(raw string) (standing.IdentityAttribute, bool) {
	d := strings.TrimSpace(raw)
	if d == "" {
		return standing.IdentityAttribute{}, false
	}
	display := d
	if len(d) > 6 {
		display = d[:4] + "…"
	}
	return standing.IdentityAttribute{Kind: standing.IdentityDevice, Hash: h.hash(standing.IdentityDevice, d), Display: display}, true
}

// LooksLikeCardNumber reports whether s, with spaces and dashes removed, is 13 to 19
// digits that pass the Luhn check, as every payment card number does.
func LooksLikeCardNumber(s string) bool {
	digits := make([]byte, 0, 24)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-':
		default:
			return false
		}
		if len(digits) > 19 {
			return false
		}
	}
	if len(digits) < 13 {
		return false
	}
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
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
