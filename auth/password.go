package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"standing"
)

// Argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane), about 27 ms here.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// HashPassword returns the PHC-format argon2id hash of password.
func HashPassword(password string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether password matches the PHC-format hash. A malformed or empty
// hash never matches.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	passwordWork.Add(int64(m) * int64(t))
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// passwordWork sums the cost (memory in KiB × passes) of every argon2id derivation run to
// check a password.
var passwordWork atomic.Int64

// PasswordWork is the total cost (memory in KiB × passes) of the argon2id derivations run
// so far to check passwords: what a wrong email and a wrong password must cost alike, so
// that timing does not tell who has an account.
func PasswordWork() int64 { return passwordWork.Load() }

// dummyHash is checked against when no account matches an email, so that a wrong email
// takes as long as a wrong password and timing does not tell whether an account exists.
var dummyHash = HashPassword("no account has this password")

// FakeCheckPassword takes as long as checking password against a real hash, and reports
// false. Sign-in forms call it when no account (or staff user) has the email, so that a
// wrong email takes as long as a wrong password and timing does not tell who has one.
func FakeCheckPassword(password string) bool {
	CheckPassword(dummyHash, password)
	return false
}

// ValidatePassword checks a new password against the policy: long enough, not too long,
// not a common password, not the email. Errors name the field "password" and say how to
// fix it.
func ValidatePassword(p standing.SignInPolicy, password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < p.MinPasswordLength:
		return standing.FieldErrorf(standing.EINVALID, "password", "Use at least %d characters; a short sentence is easy to remember and hard to guess.", p.MinPasswordLength)
	case n > p.MaxPasswordLength:
		return standing.FieldErrorf(standing.EINVALID, "password", "Use at most %d characters.", p.MaxPasswordLength)
	case !utf8.ValidString(password):
		return standing.FieldErrorf(standing.EINVALID, "password", "The password has characters that are not valid text.")
	}
	lower := strings.ToLower(password)
	if isCommon(lower) {
		return standing.FieldErrorf(standing.EINVALID, "password", "This password is on lists of the most common passwords, which attackers try first. Choose another.")
	}
	if local, _, ok := strings.Cut(strings.ToLower(email), "@"); ok && len(local) >= 4 && strings.Contains(lower, local) {
		return standing.FieldErrorf(standing.EINVALID, "password", "The password must not contain your email address.")
	}
	if strings.Count(lower, string(lower[0])) == len(lower) {
		return standing.FieldErrorf(standing.EINVALID, "password", "The password must not repeat one character.")
	}
	return nil
}

func isCommon(lower string) bool {
	if commonPasswords[lower] {
		return true
	}
	// "password123", "qwerty2024!": a common word with digits or symbols around it.
	core := strings.TrimFunc(lower, func(r rune) bool { return r < 'a' || r > 'z' })
	return len(core) >= 4 && commonPasswords[core] && len(lower)-len(core) <= 6
}

// commonPasswords are the most used passwords of public breach corpora, lower-cased.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(commonList) {
		m[w] = true
	}
	return m
}()

const commonList = `
123456 123456789 12345678 1234567890 1234567 12345 123123 111111 000000 654321 666666 121212
112233 123321 987654321 1q2w3e4r 1q2w3e4r5t 1qaz2wsx qwerty qwertyuiop qwerty123 qwe123
asdfgh asdfghjkl zxcvbnm zxcvbn password passw0rd p@ssw0rd password1 password12 password123
iloveyou princess admin administrator welcome login letmein monkey dragon master sunshine
football baseball basketball soccer hockey superman batman trustno1 shadow michael jennifer
jordan hunter ranger buster thomas charlie jessica ashley daniel andrew joshua matthew
starwars whatever freedom killer pepper hello computer internet secret summer winter spring
autumn flower cookie chocolate cheese banana orange purple yellow google facebook youtube
linkedin samsung apple iphone android mustang ferrari porsche harley yankees liverpool
arsenal chelsea barcelona juventus abc123 abcdef abcdefg abcdefgh abcd1234 aaaaaa
changeme default guest test testing test123 demo root toor pass pass123 mypass mypassword
access secret123 qazwsx zaq12wsx 1qazxsw2 q1w2e3r4 q1w2e3r4t5 azerty azertyuiop motdepasse
passwort hallo12345 contraseña senha123 parola 999999 888888 777777 555555 444444 222222
11111111 00000000 12341234 11223344 123qwe 1234qwer qwer1234 aa123456 a123456 123456a
loveyou lovely iloveu family blessed jesus angel angels heaven forever babygirl sweety
nicole michelle princess1 rockyou lol123 hottie flowers tigger soccer1 anthony william
marketplace aliexpress amazon ebay shopping shop1234 buyer seller standing verysecret
correcthorsebatterystaple welcome1 welcome123 letmein1 admin123 admin1234 root123
`
