package standing

import "context"

// ProfileChange is a person's change of their own profile. A nil field is left as it is;
// a pointer to "" clears the field (each is optional, as at sign-up). identity.Profile
// validates a change and brings the values it sets to canonical form.
type ProfileChange struct {
	Name    *string `json:"name,omitempty"`
	Phone   *string `json:"phone,omitempty"`
	Country *string `json:"country,omitempty"`
}

// Apply returns a with the change made, and the API names of the fields whose values it
// changed (none when every value it sets is the one a already has).
func (c ProfileChange) Apply(a Account) (Account, []string) {
	var changed []string
	set := func(field string, to *string, v *string) {
		if to != nil && *to != *v {
			*v = *to
			changed = append(changed, field)
		}
	}
	set("name", c.Name, &a.Name)
	set("phone", c.Phone, &a.Phone)
	set("country", c.Country, &a.Country)
	return a, changed
}

// ProfileValues returns the values of the named profile fields of a, by API name: what an
// audit entry of a profile change keeps (as personal data) of the account before and after.
func ProfileValues(a Account, fields []string) map[string]string {
	out := make(map[string]string, len(fields))
	for _, f := range fields {
		switch f {
		case "name":
			out[f] = a.Name
		case "phone":
			out[f] = a.Phone
		case "country":
			out[f] = a.Country
		}
	}
	return out
}

// AccountIdentity returns the hashed identity attributes of an account record (its phone
// and name), the details duplicate detection compares.
type AccountIdentity func(a Account) []IdentityAttribute

// ProfileWriter changes an account's own profile.
type ProfileWriter interface {
	// ChangeProfile makes a change the person made of their own profile, already
	// validated by identity.Profile, and returns the account after it. identity hashes
	// the record's details so that accounts sharing them are linked; nil leaves them out.
	// A change that changes no value writes nothing and returns the account as it was.
	// ENOTFOUND for an unknown account, EGONE for an erased one.
	ChangeProfile(ctx context.Context, accountID string, c ProfileChange, ip string, identity AccountIdentity) (Account, error)
}
