package standing

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

var idState struct {
	sync.Mutex
	ms   uint64
	rand [10]byte
}

// NewID returns prefix + "_" + a 26-character id whose first 10 characters encode the
// millisecond time and the other 16 are random. Ids made by one process sort in the order
// they were made (within a millisecond the random part counts up, as in monotonic ULIDs),
// so "newest first" needs no other column, even under a test clock that stands still.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	idState.Lock()
	if ms <= idState.ms {
		ms = idState.ms
		for i := len(idState.rand) - 1; i >= 0; i-- {
			idState.rand[i]++
			if idState.rand[i] != 0 {
				break
			}
		}
	} else {
		idState.ms = ms
		rand.Read(idState.rand[:])
		idState.rand[0] &= 0x7f // room to count up without overflowing
	}
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	copy(b[6:], idState.rand[:])
	idState.Unlock()
	var out strings.Builder
	out.Grow(len(prefix) + 27)
	out.WriteString(prefix)
	out.WriteByte('_')
	// 128 bits in 26 base-32 digits, most significant first.
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift > 59:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		out.WriteByte(crockford[v&31])
	}
	return out.String()
}

// HashToken returns the stored form of a secret: the hex SHA-256 of a session token, a
// link's secret or an API key. They are RandomToken(32) and longer, 256 random bits, so a
// plain SHA-256 is enough: there is nothing to brute-force. Passwords are not tokens.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// RandomToken returns n random bytes as lower-case base-32 text: for secrets and links.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	var out strings.Builder
	var acc uint32
	bitsIn := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bitsIn += 8
		for bitsIn >= 5 {
			bitsIn -= 5
			out.WriteByte(crockford[(acc>>uint(bitsIn))&31])
		}
	}
	if bitsIn > 0 {
		out.WriteByte(crockford[(acc<<uint(5-bitsIn))&31])
	}
	return out.String()
}
