package ipintel

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"standing"
)

// TestSetsAgainstScan checks the range sets against a linear scan of the prefixes, with
// prefixes crowded into a small space so that many overlap, nest and touch.
func TestSetsAgainstScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var prefixes []netip.Prefix
		for range 1 + rng.IntN(200) {
			prefixes = append(prefixes, randomPrefix(rng))
		}
		v4, v6 := buildSets(prefixes)
		checkSorted(t, v4, v6)
		probes := randomProbes(rng, prefixes)
		for _, ip := range probes {
			want := false
			for _, p := range prefixes {
				if p.Contains(ip) {
					want = true
					break
				}
			}
			var got bool
			if ip.Is4() {
				got = v4.contains(v4Key(ip))
			} else {
				got = v6.contains(v6Key(ip))
			}
			if got != want {
				t.Fatalf("round %d: contains(%s) = %v, want %v; prefixes %v", round, ip, got, want, prefixes)
			}
		}
	}
}

// randomPrefix returns a prefix inside 10.0.0.0/16 or 2001:db8::/112, or now and then one
// of the edges of the address space.
func randomPrefix(rng *rand.Rand) netip.Prefix {
	switch rng.IntN(20) {
	case 0:
		return netip.MustParsePrefix("0.0.0.0/0")
	case 1:
		return netip.MustParsePrefix("255.255.255.255/32")
	case 2:
		return netip.MustParsePrefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120")
	case 3:
		return netip.MustParsePrefix("::/1")
	}
	if rng.IntN(2) == 0 {
		a := netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(256)), byte(rng.IntN(256))})
		return netip.PrefixFrom(a, 16+rng.IntN(17)).Masked()
	}
	b := netip.MustParseAddr("2001:db8::").As16()
	b[14], b[15] = byte(rng.IntN(256)), byte(rng.IntN(256))
	return netip.PrefixFrom(netip.AddrFrom16(b), 112+rng.IntN(17)).Masked()
}

// randomProbes returns the first and last address of each prefix, their neighbours, and
// random addresses near them.
func randomProbes(rng *rand.Rand, prefixes []netip.Prefix) []netip.Addr {
	var out []netip.Addr
	for _, p := range prefixes {
		first := p.Addr()
		last := lastAddr(p)
		out = append(out, first, last)
		if prev := first.Prev(); prev.IsValid() {
			out = append(out, prev)
		}
		if next := last.Next(); next.IsValid() {
			out = append(out, next)
		}
	}
	for range 200 {
		out = append(out,
			netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(256)), byte(rng.IntN(256))}),
			netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}),
		)
		b := netip.MustParseAddr("2001:db8::").As16()
		b[14], b[15] = byte(rng.IntN(256)), byte(rng.IntN(256))
		out = append(out, netip.AddrFrom16(b))
	}
	return out
}

func lastAddr(p netip.Prefix) netip.Addr {
	if p.Addr().Is4() {
		k := v4Key(p.Addr()) | uint32(uint64(1)<<(32-p.Bits())-1)
		return netip.AddrFrom4([4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)})
	}
	k := v6Key(p.Addr()).or(hostMask(p.Bits()))
	var b [16]byte
	for i := range 8 {
		b[i] = byte(k.hi >> (56 - 8*i))
		b[8+i] = byte(k.lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}

// checkSorted checks that the sets' ranges are well formed, sorted, disjoint and not
// adjacent (adjacent ranges should have merged).
func checkSorted(t *testing.T, v4 v4Set, v6 v6Set) {
	t.Helper()
	for i := range v4.lo {
		if v4.lo[i] > v4.hi[i] {
			t.Fatalf("v4 range %d is inverted", i)
		}
		if i > 0 && v4.lo[i] <= v4.hi[i-1]+1 {
			t.Fatalf("v4 ranges %d and %d overlap or touch", i-1, i)
		}
	}
	for i := range v6.lo {
		if v6.hi[i].less(v6.lo[i]) {
			t.Fatalf("v6 range %d is inverted", i)
		}
		if i > 0 {
			after, ok := v6.hi[i-1].next()
			if !ok || !after.less(v6.lo[i]) {
				t.Fatalf("v6 ranges %d and %d overlap or touch", i-1, i)
			}
		}
	}
}

func TestParseListEntries(t *testing.T) {
	in := strings.Join([]string{
		"\ufeff# header",
		"192.0.2.1",
		"192.0.2.0/24 # a comment",
		"192.0.2.77/24",
		"::ffff:198.51.100.0/120",
		"::ffff:0:0/95",
		"2001:DB8::1",
		"\t2001:db8::/32\r",
		";",
	}, "\n")
	got, err := parseList(strings.NewReader(in), "t.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.1/32", "192.0.2.0/24", "192.0.2.0/24", "198.51.100.0/24", "::fffe:0:0/95", "2001:db8::1/128", "2001:db8::/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		"",
		"192.0.2.1\n",
		"# comment\n\n10.0.0.0/8\n10.1.0.0/16\n",
		"2001:db8::/32\n2001:db8::1\n::ffff:1.2.3.4\n",
		"::ffff:0:0/96\n::/0\n0.0.0.0/0\n",
		"1.2.3.4/24 ; drop\r\n",
		"not an ip\n",
		"fe80::1%eth0\n",
		"1.2.3.4/33\n",
		"\ufeff1.2.3.4",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prefixes, err := parseList(strings.NewReader(s), "fuzz.txt")
		if err != nil {
			if standing.ErrorCode(err) != standing.EINVALID || !strings.Contains(err.Error(), "fuzz.txt line ") {
				t.Fatalf("error %v is not EINVALID naming the file and line", err)
			}
			return
		}
		for _, p := range prefixes {
			if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" {
				t.Fatalf("prefix %v is not valid and masked", p)
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				t.Fatalf("prefix %v should have been unmapped", p)
			}
		}
		v4, v6 := buildSets(prefixes)
		checkSorted(t, v4, v6)
		for _, p := range prefixes {
			for _, a := range []netip.Addr{p.Addr(), lastAddr(p)} {
				ok := false
				if a.Is4() {
					ok = v4.contains(v4Key(a))
				} else {
					ok = v6.contains(v6Key(a))
				}
				if !ok {
					t.Fatalf("set from %v does not contain %s", prefixes, a)
				}
			}
		}
	})
}

func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", " 10.0.0.1 ", "", "x", "fe80::1%eth0", "1.2.3.4/32", "::ffff:1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseIP(s)
		if err != nil {
			if standing.ErrorCode(err) != standing.EINVALID || !strings.Contains(standing.ErrorMessage(err), "is not an IP address") {
				t.Fatalf("ParseIP(%q) error %v is not EINVALID 'is not an IP address'", s, err)
			}
			return
		}
		if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
			t.Fatalf("ParseIP(%q) = %v: invalid, mapped or zoned", s, a)
		}
		again, err := ParseIP(a.String())
		if err != nil || again != a {
			t.Fatalf("ParseIP(%q) = %v, but its String parses as %v, %v", s, a, again, err)
		}
	})
}
