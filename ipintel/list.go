package ipintel

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"standing"
)

// Kind is what a CIDR list says about the addresses in it.
type Kind string

// The kinds of list. Each sets the Flags field it is named for (KindPublicProxy, written
// "proxy", sets PublicProxy); all but KindHosting also set Anonymous.
const (
	KindAnonymous        Kind = "anonymous"
	KindVPN              Kind = "vpn"
	KindPublicProxy      Kind = "proxy"
	KindResidentialProxy Kind = "residential_proxy"
	KindTor              Kind = "tor"
	KindHosting          Kind = "hosting"
)

var kinds = []Kind{KindAnonymous, KindVPN, KindPublicProxy, KindResidentialProxy, KindTor, KindHosting}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(kinds, k) }

// flags returns the flags a list of kind k sets.
func (k Kind) flags() Flags {
	switch k {
	case KindAnonymous:
		return Flags{Anonymous: true}
	case KindVPN:
		return Flags{Anonymous: true, VPN: true}
	case KindPublicProxy:
		return Flags{Anonymous: true, PublicProxy: true}
	case KindResidentialProxy:
		return Flags{Anonymous: true, ResidentialProxy: true}
	case KindTor:
		return Flags{Anonymous: true, Tor: true}
	case KindHosting:
		return Flags{Hosting: true}
	}
	return Flags{}
}

func kindNames() string {
	var s []string
	for _, k := range kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// List is a plain-text file of addresses that all have one Kind.
//
// The file holds one entry a line: an IPv4 or IPv6 address (a /32 or /128) or a CIDR
// prefix, such as 192.0.2.0/24 or 2001:db8::/32. Everything from a '#' or ';' to the end
// of a line is a comment (';' because Spamhaus DROP lists use it); blank lines, surrounding
// white space, CRLF line ends and a UTF-8 byte-order mark are allowed. A prefix with host
// bits set (192.0.2.7/24) is taken as its network (192.0.2.0/24). An IPv4-mapped IPv6
// entry (::ffff:192.0.2.0/120) is taken as the IPv4 prefix it maps; any other IPv6 prefix,
// ::/0 included, covers IPv6 addresses only. Overlapping and duplicate entries are fine.
//
// Any other line — two entries on one line, a zone, a bad prefix length, a line over
// 64 KiB — rejects the whole file, with an error naming the file and the line, so the
// operator notices a broken file rather than running with part of it.
type List struct {
	// Kind is the flag the list sets.
	Kind Kind
	// Label names the list in Info.Sources; "" means the file's base name.
	Label string
	// Path is where the file is.
	Path string
}

// ParseList parses a list as an operator writes it in configuration: "KIND:PATH" or
// "KIND:LABEL=PATH", for example "tor:/var/lib/standing/tor-exits.txt" or
// "vpn:corp-vpns=/etc/standing/vpn.txt". A bad spec is an EINVALID *standing.Error.
func ParseList(spec string) (List, error) {
	kind, rest, ok := strings.Cut(strings.TrimSpace(spec), ":")
	if !ok {
		return List{}, standing.Errorf(standing.EINVALID, "ip list %s: want KIND:PATH or KIND:LABEL=PATH, where KIND is one of %s", quoteShort(spec), kindNames())
	}
	l := List{Kind: Kind(kind), Path: rest}
	if label, path, ok := strings.Cut(rest, "="); ok && label != "" && !strings.ContainsRune(label, '/') {
		l.Label, l.Path = label, path
	}
	if err := l.check(); err != nil {
		return List{}, err
	}
	return l, nil
}

// String returns l in the form ParseList reads.
func (l List) String() string {
	if l.Label == "" {
		return string(l.Kind) + ":" + l.Path
	}
	return string(l.Kind) + ":" + l.Label + "=" + l.Path
}

// check reports what is wrong with l, if anything.
func (l List) check() error {
	if !l.Kind.Valid() {
		return standing.Errorf(standing.EINVALID, "ip list %s: unknown kind %s; known: %s", quoteShort(l.String()), quoteShort(string(l.Kind)), kindNames())
	}
	if l.Path == "" {
		return standing.Errorf(standing.EINVALID, "ip list %s: the path is empty", quoteShort(l.String()))
	}
	return nil
}

// listSource is one loaded list.
type listSource struct {
	src   Source
	flags Flags
	v4    v4Set
	v6    v6Set
}

func (l *listSource) contains(ip netip.Addr) bool {
	if ip.Is4() {
		return l.v4.contains(v4Key(ip))
	}
	return l.v6.contains(v6Key(ip))
}

// openList reads and parses the list file l names.
func openList(l List) (*listSource, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	f, err := os.Open(l.Path)
	if err != nil {
		return nil, fmt.Errorf("ipintel: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ipintel: %w", err)
	}
	prefixes, err := parseList(f, l.Path)
	if err != nil {
		return nil, err
	}
	ls := &listSource{flags: l.Kind.flags()}
	ls.v4, ls.v6 = buildSets(prefixes)
	label := l.Label
	if label == "" {
		label = labelOf(l.Path)
	}
	ls.src = Source{Label: label, Path: l.Path, Kind: l.Kind, Built: fi.ModTime().UTC(), Ranges: ls.v4.len() + ls.v6.len()}
	return ls, nil
}

// maxLine is the longest line a list may have.
const maxLine = 64 << 10

// parseList reads the entries of a list from r; name is the file for error messages.
// Each prefix returned is masked, and IPv4-mapped prefixes are unmapped.
func parseList(r io.Reader, name string) ([]netip.Prefix, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var (
		out     []netip.Prefix
		n       int
		bad     *standing.Error // the first bad line
		badMore int             // how many more there are
	)
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		if i := bytes.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		p, ok := parseEntry(string(line))
		if !ok {
			if bad == nil {
				bad = standing.Errorf(standing.EINVALID, "ipintel: %s line %d: %s is not an IP address or CIDR prefix", name, n, quoteShort(string(line)))
			} else {
				badMore++
			}
			continue
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, standing.Errorf(standing.EINVALID, "ipintel: %s line %d: longer than %d bytes; the list is not loaded", name, n+1, maxLine)
		}
		return nil, fmt.Errorf("ipintel: reading %s: %w", name, err)
	}
	if bad != nil {
		if badMore > 0 {
			bad.Message += fmt.Sprintf(" (and %d more bad lines)", badMore)
		}
		bad.Message += "; the list is not loaded"
		return nil, bad
	}
	return out, nil
}

// parseEntry parses one entry of a list: an address or a prefix.
func parseEntry(s string) (netip.Prefix, bool) {
	var p netip.Prefix
	if strings.IndexByte(s, '/') >= 0 {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, false
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// buildSets turns prefixes into sorted, disjoint ranges, one set per address family.
func buildSets(prefixes []netip.Prefix) (v4Set, v6Set) {
	var r4 []range4
	var r6 []range6
	for _, p := range prefixes {
		if p.Addr().Is4() {
			lo := v4Key(p.Addr())
			r4 = append(r4, range4{lo, lo | uint32(uint64(1)<<(32-p.Bits())-1)})
		} else {
			lo := v6Key(p.Addr())
			r6 = append(r6, range6{lo, lo.or(hostMask(p.Bits()))})
		}
	}
	return newV4Set(r4), newV6Set(r6)
}

// IPv4 ranges.

type range4 struct{ lo, hi uint32 }

// v4Set is a set of IPv4 addresses as sorted, disjoint, non-adjacent ranges. The bounds
// are in two slices so a binary search touches only the lower bounds.
type v4Set struct{ lo, hi []uint32 }

func v4Key(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func newV4Set(rs []range4) v4Set {
	slices.SortFunc(rs, func(a, b range4) int { return cmp.Compare(a.lo, b.lo) })
	var s v4Set
	for _, r := range rs {
		if n := len(s.hi); n > 0 && (r.lo <= s.hi[n-1] || s.hi[n-1] != ^uint32(0) && r.lo == s.hi[n-1]+1) {
			s.hi[n-1] = max(s.hi[n-1], r.hi)
			continue
		}
		s.lo = append(s.lo, r.lo)
		s.hi = append(s.hi, r.hi)
	}
	return s
}

func (s *v4Set) len() int { return len(s.lo) }

func (s *v4Set) contains(x uint32) bool {
	// i becomes the number of ranges that start at or below x.
	i, j := 0, len(s.lo)
	for i < j {
		h := int(uint(i+j) >> 1)
		if s.lo[h] <= x {
			i = h + 1
		} else {
			j = h
		}
	}
	return i > 0 && x <= s.hi[i-1]
}

// IPv6 ranges.

// u128 is an IPv6 address as a 128-bit unsigned integer.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) or(b u128) u128 { return u128{a.hi | b.hi, a.lo | b.lo} }

// next returns a+1 and whether it did not overflow.
func (a u128) next() (u128, bool) {
	lo := a.lo + 1
	hi := a.hi
	if lo == 0 {
		hi++
	}
	return u128{hi, lo}, lo != 0 || hi != 0
}

// hostMask returns the host bits of a /bits IPv6 prefix.
func hostMask(bits int) u128 {
	if bits <= 64 {
		return u128{uint64(1)<<(64-bits) - 1, ^uint64(0)}
	}
	return u128{0, uint64(1)<<(128-bits) - 1}
}

func v6Key(a netip.Addr) u128 {
	b := a.As16()
	var k u128
	for i := range 8 {
		k.hi = k.hi<<8 | uint64(b[i])
		k.lo = k.lo<<8 | uint64(b[8+i])
	}
	return k
}

type range6 struct{ lo, hi u128 }

// v6Set is v4Set for IPv6.
type v6Set struct{ lo, hi []u128 }

func newV6Set(rs []range6) v6Set {
	slices.SortFunc(rs, func(a, b range6) int {
		if a.lo.less(b.lo) {
			return -1
		} else if b.lo.less(a.lo) {
			return 1
		}
		return 0
	})
	var s v6Set
	for _, r := range rs {
		if n := len(s.hi); n > 0 {
			last := s.hi[n-1]
			after, ok := last.next()
			if !last.less(r.lo) || ok && after == r.lo {
				if last.less(r.hi) {
					s.hi[n-1] = r.hi
				}
				continue
			}
		}
		s.lo = append(s.lo, r.lo)
		s.hi = append(s.hi, r.hi)
	}
	return s
}

func (s *v6Set) len() int { return len(s.lo) }

func (s *v6Set) contains(x u128) bool {
	i, j := 0, len(s.lo)
	for i < j {
		h := int(uint(i+j) >> 1)
		if !x.less(s.lo[h]) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i > 0 && !s.hi[i-1].less(x)
}
