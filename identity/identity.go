// Package identity normalises the identity details people give — emails, phones,
// countries — so that two spellings of the same detail compare equal and bad input is
// refused with a message that names the problem.
package identity

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"standing"
)

var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.VerifyDNSLength(true))

// Email returns the canonical form of an email address: trimmed, lower-cased, with an
// internationalised domain in its ASCII (punycode) form.
func Email(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", standing.Errorf(standing.EINVALID, "email is required")
	}
	if len(s) > standing.MaxEmailLen {
		return "", standing.Errorf(standing.EINVALID, "email is longer than %d characters", standing.MaxEmailLen)
	}
	if !utf8.ValidString(s) {
		return "", standing.Errorf(standing.EINVALID, "email is not valid UTF-8")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", standing.Errorf(standing.EINVALID, "%q is not an email address: it needs a name, an @ and a domain", s)
	}
	local, domain := s[:at], s[at+1:]
	for _, r := range local {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == ',' {
			return "", standing.Errorf(standing.EINVALID, "%q is not an email address: the part before @ has a space or %q", s, r)
		}
	}
	ascii, err := idnaProfile.ToASCII(strings.ToLower(strings.TrimSuffix(domain, ".")))
	if err != nil || !strings.Contains(ascii, ".") {
		return "", standing.Errorf(standing.EINVALID, "%q is not an email address: the domain %q is not a valid domain name", s, domain)
	}
	out := strings.ToLower(local) + "@" + ascii
	if len(out) > standing.MaxEmailLen {
		return "", standing.Errorf(standing.EINVALID, "email is longer than %d characters once its domain is encoded", standing.MaxEmailLen)
	}
	if a, err := mail.ParseAddress(out); err != nil || a.Address != out || a.Name != "" {
		return "", standing.Errorf(standing.EINVALID, "%q is not an email address", s)
	}
	return out, nil
}

// Phone returns a phone number in E.164 form: "+" and 8 to 15 digits. Spaces, dots,
// dashes and brackets are dropped; a leading "00" becomes "+".
func Phone(s string) (string, error) {
	var b strings.Builder
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	for i, r := range s {
		switch {
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", standing.Errorf(standing.EINVALID, "phone %q has a character that is not a digit: %q", s, r)
		}
	}
	out := b.String()
	if !strings.HasPrefix(out, "+") {
		return "", standing.Errorf(standing.EINVALID, "phone %q must be in international form, starting with + and the country code", s)
	}
	if n := len(out) - 1; n < 8 || n > 15 || out[1] == '0' {
		return "", standing.Errorf(standing.EINVALID, "phone %q must have 8 to 15 digits after + and start with a country code", s)
	}
	return out, nil
}

// Country returns an ISO 3166-1 alpha-2 country code in upper case.
func Country(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if len(c) != 2 || !strings.Contains(iso3166, " "+c+" ") {
		return "", standing.Errorf(standing.EINVALID, "country %q is not an ISO 3166-1 alpha-2 code such as DE or US", s)
	}
	return c, nil
}

// Name returns a person's name without the white space around it; a name longer than
// standing.MaxNameLen bytes, or not valid UTF-8, is refused.
func Name(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > standing.MaxNameLen {
		return "", standing.Errorf(standing.EINVALID, "name is longer than %d characters", standing.MaxNameLen)
	}
	if !utf8.ValidString(s) {
		return "", standing.Errorf(standing.EINVALID, "name is not valid UTF-8")
	}
	return s, nil
}

// Account validates a new account and brings its fields to canonical form. Errors name the
// field, prefixed with prefix (for batch items, "accounts[3].").
func Account(a *standing.NewAccount, prefix string) error {
	if !a.Role.Valid() {
		return standing.FieldErrorf(standing.EINVALID, prefix+"role", "role must be buyer or seller, not %q", a.Role)
	}
	email, err := Email(a.Email)
	if err != nil {
		return standing.FieldErrorf(standing.EINVALID, prefix+"email", "%s", standing.ErrorMessage(err))
	}
	a.Email = email
	if a.Name, err = Name(a.Name); err != nil {
		return standing.FieldErrorf(standing.EINVALID, prefix+"name", "%s", standing.ErrorMessage(err))
	}
	if a.Phone != "" {
		if a.Phone, err = Phone(a.Phone); err != nil {
			return standing.FieldErrorf(standing.EINVALID, prefix+"phone", "%s", standing.ErrorMessage(err))
		}
	}
	if a.Country != "" {
		if a.Country, err = Country(a.Country); err != nil {
			return standing.FieldErrorf(standing.EINVALID, prefix+"country", "%s", standing.ErrorMessage(err))
		}
	}
	if len(a.ExternalID) > standing.MaxExternalLen {
		return standing.FieldErrorf(standing.EINVALID, prefix+"external_id", "external_id is longer than %d characters", standing.MaxExternalLen)
	}
	switch a.Lifecycle {
	case "":
		a.Lifecycle = standing.LifecycleUnverified
	case standing.LifecycleUnverified, standing.LifecycleActive:
	default:
		return standing.FieldErrorf(standing.EINVALID, prefix+"lifecycle", "an account is created unverified or active, not %q", a.Lifecycle)
	}
	return a.ValidateRestrictions(prefix)
}

// Profile validates a change of a profile and brings the values it sets to canonical
// form, as Account does for a new account; a value that is empty or only white space
// clears its field. Errors name the field.
func Profile(c *standing.ProfileChange) error {
	if c.Name != nil {
		name, err := Name(*c.Name)
		if err != nil {
			return standing.FieldErrorf(standing.EINVALID, "name", "%s", standing.ErrorMessage(err))
		}
		c.Name = &name
	}
	if c.Phone != nil {
		phone := strings.TrimSpace(*c.Phone)
		if phone != "" {
			var err error
			if phone, err = Phone(phone); err != nil {
				return standing.FieldErrorf(standing.EINVALID, "phone", "%s", standing.ErrorMessage(err))
			}
		}
		c.Phone = &phone
	}
	if c.Country != nil {
		country := strings.TrimSpace(*c.Country)
		if country != "" {
			var err error
			if country, err = Country(country); err != nil {
				return standing.FieldErrorf(standing.EINVALID, "country", "%s", standing.ErrorMessage(err))
			}
		}
		c.Country = &country
	}
	return nil
}

// iso3166 lists the ISO 3166-1 alpha-2 codes, space separated with spaces at both ends.
var iso3166 = " " + strings.Join(strings.Fields(`
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG
VI VN VU WF WS XK YE YT ZA ZM ZW`), " ") + " "
