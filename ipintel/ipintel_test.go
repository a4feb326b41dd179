package ipintel_test

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"standing"
	"standing/ipintel"
	"standing/ipintel/ipinteltest"
)

// fixtures writes an Anonymous IP, an ASN and a Country database into a temporary
// directory and returns their paths in that order.
func fixtures(t *testing.T) (anon, asn, country string) {
	t.Helper()
	dir := t.TempDir()
	anon = filepath.Join(dir, "anon.mmdb")
	asn = filepath.Join(dir, "asn.mmdb")
	country = filepath.Join(dir, "country.mmdb")
	ipinteltest.WriteAnonymousIP(t, anon, map[string]ipintel.Flags{
		"192.0.2.0/28":    {Anonymous: true, VPN: true},
		"192.0.2.66":      {Tor: true}, // no is_anonymous: ipintel infers it
		"198.51.100.0/24": {Anonymous: true, Hosting: true},
		"203.0.113.7":     {Anonymous: true, ResidentialProxy: true},
		"2001:db8:1::/48": {Anonymous: true, PublicProxy: true},
	})
	ipinteltest.WriteASN(t, asn, map[string]ipinteltest.ASN{
		"192.0.2.0/24":    {Number: 64500, Org: "Example VPN Ltd"},
		"198.51.100.0/24": {Number: 64501, Org: "Example Hosting"},
		"203.0.113.0/24":  {Number: 64503, Org: "Home ISP"},
		"2001:db8::/32":   {Number: 64502, Org: "Example Six"},
	})
	ipinteltest.WriteCountry(t, country, map[string]string{
		"192.0.2.0/24":    "NL",
		"198.51.100.0/24": "US",
		"203.0.113.0/24":  "GB",
		"2001:db8::/32":   "DE",
	})
	return anon, asn, country
}

func mustParse(t testing.TB, s string) netip.Addr {
	t.Helper()
	a, err := ipintel.ParseIP(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLookupMMDB(t *testing.T) {
	anon, asn, country := fixtures(t)
	db := ipinteltest.MustOpen(t, ipintel.Config{MMDB: []string{anon, asn, country}})
	all := []string{"anon.mmdb", "asn.mmdb", "country.mmdb"}
	tests := []struct {
		ip   string
		want ipintel.Info
	}{
		{"192.0.2.5", ipintel.Info{Flags: ipintel.Flags{Anonymous: true, VPN: true}, ASN: 64500, ASNOrg: "Example VPN Ltd", Country: "NL", Sources: all}},
		{"::ffff:192.0.2.5", ipintel.Info{Flags: ipintel.Flags{Anonymous: true, VPN: true}, ASN: 64500, ASNOrg: "Example VPN Ltd", Country: "NL", Sources: all}},
		{"192.0.2.66", ipintel.Info{Flags: ipintel.Flags{Anonymous: true, Tor: true}, ASN: 64500, ASNOrg: "Example VPN Ltd", Country: "NL", Sources: all}},
		{"198.51.100.200", ipintel.Info{Flags: ipintel.Flags{Anonymous: true, Hosting: true}, ASN: 64501, ASNOrg: "Example Hosting", Country: "US", Sources: all}},
		{"203.0.113.7", ipintel.Info{Flags: ipintel.Flags{Anonymous: true, ResidentialProxy: true}, ASN: 64503, ASNOrg: "Home ISP", Country: "GB", Sources: all}},
		{"203.0.113.8", ipintel.Info{ASN: 64503, ASNOrg: "Home ISP", Country: "GB", Sources: []string{"asn.mmdb", "country.mmdb"}}},
		{"192.0.2.200", ipintel.Info{ASN: 64500, ASNOrg: "Example VPN Ltd", Country: "NL", Sources: []string{"asn.mmdb", "country.mmdb"}}},
		{"2001:db8:1:2::5", ipintel.Info{Flags: ipintel.Flags{Anonymous: true, PublicProxy: true}, ASN: 64502, ASNOrg: "Example Six", Country: "DE", Sources: all}},
		{"2001:db8:2::5", ipintel.Info{ASN: 64502, ASNOrg: "Example Six", Country: "DE", Sources: []string{"asn.mmdb", "country.mmdb"}}},
		{"100.64.0.1", ipintel.Info{}},
		{"2001:db9::1", ipintel.Info{}},
	}
	for _, tt := range tests {
		got := db.Lookup(mustParse(t, tt.ip))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Lookup(%s)\n got %+v\nwant %+v", tt.ip, got, tt.want)
		}
	}
	if got := db.Lookup(netip.Addr{}); !reflect.DeepEqual(got, ipintel.Info{}) {
		t.Errorf("Lookup(zero Addr) = %+v, want nothing", got)
	}
	// A raw mapped address, not passed through ParseIP, is unmapped by Lookup itself.
	raw := netip.MustParseAddr("::ffff:192.0.2.66")
	if got := db.Lookup(raw); !got.Tor || got.Country != "NL" {
		t.Errorf("Lookup(%s) = %+v, want the Tor exit in NL", raw, got)
	}
}

func TestCityAndEnterprise(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "city.mmdb")
	ent := filepath.Join(dir, "enterprise.mmdb")
	ipinteltest.WriteRecords(t, city, "GeoIP2-City", map[string]map[string]any{
		// Only the registered country: an anycast or satellite network.
		"192.0.2.0/24": {
			"registered_country": map[string]any{"iso_code": "FR", "names": map[string]any{"en": "France"}},
			"city":               map[string]any{"names": map[string]any{"en": "Nowhere"}},
		},
		// Both: the country wins.
		"198.51.100.0/24": {
			"country":            map[string]any{"iso_code": "CA"},
			"registered_country": map[string]any{"iso_code": "US"},
			"subdivisions":       []any{map[string]any{"iso_code": "QC"}},
		},
	})
	ipinteltest.WriteRecords(t, ent, "GeoIP2-Enterprise", map[string]map[string]any{
		"203.0.113.0/24": {
			"country": map[string]any{"iso_code": "JP"},
			"traits":  map[string]any{"autonomous_system_number": 64510, "autonomous_system_organization": "Example JP"},
		},
	})
	db := ipinteltest.MustOpen(t, ipintel.Config{MMDB: []string{city, ent}})
	tests := []struct {
		ip   string
		want ipintel.Info
	}{
		{"192.0.2.1", ipintel.Info{Country: "FR", Sources: []string{"city.mmdb"}}},
		{"198.51.100.1", ipintel.Info{Country: "CA", Sources: []string{"city.mmdb"}}},
		{"203.0.113.1", ipintel.Info{ASN: 64510, ASNOrg: "Example JP", Country: "JP", Sources: []string{"enterprise.mmdb"}}},
	}
	for _, tt := range tests {
		if got := db.Lookup(mustParse(t, tt.ip)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Lookup(%s)\n got %+v\nwant %+v", tt.ip, got, tt.want)
		}
	}
}

func TestSeveralFilesOfOneKind(t *testing.T) {
	dir := t.TempDir()
	a1, a2 := filepath.Join(dir, "a1.mmdb"), filepath.Join(dir, "a2.mmdb")
	n1, n2 := filepath.Join(dir, "n1.mmdb"), filepath.Join(dir, "n2.mmdb")
	ipinteltest.WriteAnonymousIP(t, a1, map[string]ipintel.Flags{"192.0.2.0/24": {VPN: true}})
	ipinteltest.WriteAnonymousIP(t, a2, map[string]ipintel.Flags{"192.0.2.0/24": {Hosting: true}})
	ipinteltest.WriteASN(t, n1, map[string]ipinteltest.ASN{"192.0.2.0/24": {Number: 64500, Org: "First"}})
	ipinteltest.WriteASN(t, n2, map[string]ipinteltest.ASN{"192.0.2.0/24": {Number: 64501, Org: "Second"}, "198.51.100.0/24": {Number: 64502, Org: "Only second"}})
	db := ipinteltest.MustOpen(t, ipintel.Config{MMDB: []string{a1, a2, n1, n2}})

	got := db.Lookup(mustParse(t, "192.0.2.1"))
	want := ipintel.Info{
		Flags: ipintel.Flags{Anonymous: true, VPN: true, Hosting: true}, // flags add up
		ASN:   64500, ASNOrg: "First",                                   // the first configured wins
		Sources: []string{"a1.mmdb", "a2.mmdb", "n1.mmdb", "n2.mmdb"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	got = db.Lookup(mustParse(t, "198.51.100.1"))
	want = ipintel.Info{ASN: 64502, ASNOrg: "Only second", Sources: []string{"n2.mmdb"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	domain := filepath.Join(dir, "domain.mmdb")
	ipinteltest.WriteRecords(t, domain, "GeoIP2-Domain", map[string]map[string]any{"192.0.2.0/24": {"domain": "example.com"}})
	text := filepath.Join(dir, "text.mmdb")
	if err := os.WriteFile(text, []byte("this is not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	anon, _, _ := fixtures(t)
	other := filepath.Join(t.TempDir(), "anon.mmdb")
	ipinteltest.WriteAnonymousIP(t, other, nil)
	list := filepath.Join(dir, "list.txt")
	ipinteltest.WriteList(t, list, "192.0.2.0/24")

	tests := []struct {
		name string
		cfg  ipintel.Config
		code string
		want []string // substrings of the message
	}{
		{"unknown type", ipintel.Config{MMDB: []string{domain}}, standing.EINVALID, []string{domain, `"GeoIP2-Domain"`, "GeoLite2-ASN"}},
		{"not a database", ipintel.Config{MMDB: []string{text}}, standing.EINVALID, []string{text, "is not a MaxMind DB file"}},
		{"empty file", ipintel.Config{MMDB: []string{empty}}, standing.EINVALID, []string{empty}},
		{"empty path", ipintel.Config{MMDB: []string{""}}, standing.EINVALID, []string{"empty"}},
		{"same label", ipintel.Config{MMDB: []string{anon, other}}, standing.EINVALID, []string{anon, other, `"anon.mmdb"`}},
		{"same label as a list", ipintel.Config{MMDB: []string{anon}, Lists: []ipintel.List{{Kind: ipintel.KindVPN, Label: "anon.mmdb", Path: list}}}, standing.EINVALID, []string{`"anon.mmdb"`}},
		{"bad kind", ipintel.Config{Lists: []ipintel.List{{Kind: "evil", Path: list}}}, standing.EINVALID, []string{`"evil"`, "tor"}},
		{"list without path", ipintel.Config{Lists: []ipintel.List{{Kind: ipintel.KindTor}}}, standing.EINVALID, []string{"path is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := ipintel.Open(tt.cfg)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if got := standing.ErrorCode(err); got != tt.code {
				t.Errorf("code = %q, want %q (%v)", got, tt.code, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}

	_, err := ipintel.Open(ipintel.Config{MMDB: []string{filepath.Join(dir, "missing.mmdb")}})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing mmdb: err = %v, want fs.ErrNotExist", err)
	}
	_, err = ipintel.Open(ipintel.Config{Lists: []ipintel.List{{Kind: ipintel.KindTor, Path: filepath.Join(dir, "missing.txt")}}})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing list: err = %v, want fs.ErrNotExist", err)
	}
}

func TestVerify(t *testing.T) {
	anon, asn, country := fixtures(t)
	ipinteltest.MustOpen(t, ipintel.Config{MMDB: []string{anon, asn, country}, Verify: true})

	// Damage the search tree, leaving the metadata whole: Open without Verify accepts the
	// file, with Verify refuses it.
	b, err := os.ReadFile(anon)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 64 {
		b[i] = 0xff
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db := ipinteltest.MustOpen(t, ipintel.Config{MMDB: []string{bad}})
	db.Lookup(mustParse(t, "192.0.2.1")) // must not panic
	if _, err := ipintel.Open(ipintel.Config{MMDB: []string{bad}, Verify: true}); standing.ErrorCode(err) != standing.EINVALID || !strings.Contains(err.Error(), bad) {
		t.Errorf("Open with Verify: err = %v, want EINVALID naming %s", err, bad)
	}
}

func TestEmptyConfig(t *testing.T) {
	db := ipinteltest.MustOpen(t, ipintel.Config{})
	for _, ip := range []string{"192.0.2.1", "2001:db8::1", "::ffff:10.0.0.1"} {
		if got := db.Lookup(mustParse(t, ip)); !reflect.DeepEqual(got, ipintel.Info{}) {
			t.Errorf("Lookup(%s) = %+v, want nothing", ip, got)
		}
	}
	if s := db.Sources(); len(s) != 0 {
		t.Errorf("Sources() = %+v, want none", s)
	}
}

func TestLists(t *testing.T) {
	dir := t.TempDir()
	tor := filepath.Join(dir, "tor-exits.txt")
	vpn := filepath.Join(dir, "vpn.txt")
	cloud := filepath.Join(dir, "cloud.txt")
	ipinteltest.WriteList(t, tor,
		"# Tor exit nodes",
		"",
		"192.0.2.66",
		"  192.0.2.67   # with a comment",
		"2001:db8:7::1",
		"::ffff:198.51.100.5 ; mapped, as the Spamhaus comment style",
	)
	ipinteltest.WriteList(t, vpn,
		"\ufeff10.0.0.0/8\r",
		"10.1.0.0/16", // inside the /8
		"10.255.255.255",
		"172.16.0.0/25",
		"172.16.0.128/25", // adjacent: merges with the one before
		"192.0.2.70/31",
		"2001:db8:a::/48",
		"2001:db8:a:1::/64", // inside the /48
		"2001:db8:b::/48",
	)
	ipinteltest.WriteList(t, cloud, "198.51.100.0/24", "10.9.9.9/8")
	anon, _, _ := fixtures(t)
	db := ipinteltest.MustOpen(t, ipintel.Config{
		MMDB: []string{anon},
		Lists: []ipintel.List{
			{Kind: ipintel.KindTor, Path: tor},
			{Kind: ipintel.KindVPN, Label: "corp-vpns", Path: vpn},
			{Kind: ipintel.KindHosting, Path: cloud},
		},
	})
	tests := []struct {
		ip      string
		flags   ipintel.Flags
		sources []string
	}{
		{"192.0.2.66", ipintel.Flags{Anonymous: true, Tor: true}, []string{"anon.mmdb", "tor-exits.txt"}},
		{"192.0.2.67", ipintel.Flags{Anonymous: true, Tor: true}, []string{"tor-exits.txt"}},
		{"192.0.2.68", ipintel.Flags{}, nil},
		{"192.0.2.69", ipintel.Flags{}, nil},
		{"192.0.2.70", ipintel.Flags{Anonymous: true, VPN: true}, []string{"corp-vpns"}},
		{"192.0.2.71", ipintel.Flags{Anonymous: true, VPN: true}, []string{"corp-vpns"}},
		{"192.0.2.72", ipintel.Flags{}, nil},
		{"2001:db8:7::1", ipintel.Flags{Anonymous: true, Tor: true}, []string{"tor-exits.txt"}},
		{"2001:db8:7::2", ipintel.Flags{}, nil},
		{"198.51.100.5", ipintel.Flags{Anonymous: true, Tor: true, Hosting: true}, []string{"anon.mmdb", "tor-exits.txt", "cloud.txt"}},
		{"198.51.100.6", ipintel.Flags{Anonymous: true, Hosting: true}, []string{"anon.mmdb", "cloud.txt"}},
		{"10.0.0.0", ipintel.Flags{Anonymous: true, VPN: true, Hosting: true}, []string{"corp-vpns", "cloud.txt"}},
		{"10.1.2.3", ipintel.Flags{Anonymous: true, VPN: true, Hosting: true}, []string{"corp-vpns", "cloud.txt"}},
		{"10.255.255.255", ipintel.Flags{Anonymous: true, VPN: true, Hosting: true}, []string{"corp-vpns", "cloud.txt"}},
		{"11.0.0.0", ipintel.Flags{}, nil},
		{"9.255.255.255", ipintel.Flags{}, nil},
		{"172.16.0.127", ipintel.Flags{Anonymous: true, VPN: true}, []string{"corp-vpns"}},
		{"172.16.0.128", ipintel.Flags{Anonymous: true, VPN: true}, []string{"corp-vpns"}},
		{"172.16.1.0", ipintel.Flags{}, nil},
		{"2001:db8:a:1::1", ipintel.Flags{Anonymous: true, VPN: true}, []string{"corp-vpns"}},
		{"2001:db8:a:ffff:ffff:ffff:ffff:ffff", ipintel.Flags{Anonymous: true, VPN: true}, []string{"corp-vpns"}},
		{"2001:db8:b::", ipintel.Flags{Anonymous: true, VPN: true}, []string{"corp-vpns"}},
		{"2001:db8:c::", ipintel.Flags{}, nil},
		{"::ffff:10.0.0.1", ipintel.Flags{Anonymous: true, VPN: true, Hosting: true}, []string{"corp-vpns", "cloud.txt"}},
	}
	for _, tt := range tests {
		got := db.Lookup(mustParse(t, tt.ip))
		if got.Flags != tt.flags || !reflect.DeepEqual(got.Sources, tt.sources) {
			t.Errorf("Lookup(%s) = %+v %v, want %+v %v", tt.ip, got.Flags, got.Sources, tt.flags, tt.sources)
		}
	}

	src := db.Sources()
	if len(src) != 4 {
		t.Fatalf("Sources() = %+v, want 4", src)
	}
	if s := src[0]; s.Label != "anon.mmdb" || s.DatabaseType != "GeoIP2-Anonymous-IP" || s.Built.IsZero() || s.Kind != "" {
		t.Errorf("Sources()[0] = %+v", s)
	}
	// tor: 192.0.2.66-67 merge; 2001:db8:7::1; 198.51.100.5.
	if s := src[1]; s.Label != "tor-exits.txt" || s.Kind != ipintel.KindTor || s.Ranges != 3 || s.Path != tor {
		t.Errorf("Sources()[1] = %+v", s)
	}
	// vpn: 10/8, 172.16.0.0/24, 192.0.2.70/31, and 2001:db8:a::/48 with the adjacent
	// 2001:db8:b::/48.
	if s := src[2]; s.Label != "corp-vpns" || s.Kind != ipintel.KindVPN || s.Ranges != 4 {
		t.Errorf("Sources()[2] = %+v", s)
	}
}

func TestWholeSpaceLists(t *testing.T) {
	dir := t.TempDir()
	all4 := filepath.Join(dir, "all4.txt")
	all6 := filepath.Join(dir, "all6.txt")
	ipinteltest.WriteList(t, all4, "0.0.0.0/0", "255.255.255.255")
	ipinteltest.WriteList(t, all6, "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
	db := ipinteltest.MustOpen(t, ipintel.Config{Lists: []ipintel.List{
		{Kind: ipintel.KindAnonymous, Path: all4},
		{Kind: ipintel.KindHosting, Path: all6},
	}})
	for _, tt := range []struct {
		ip   string
		want []string
	}{
		{"0.0.0.0", []string{"all4.txt"}},
		{"255.255.255.255", []string{"all4.txt"}},
		{"::", []string{"all6.txt"}},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", []string{"all6.txt"}},
		{"::ffff:1.2.3.4", []string{"all4.txt"}}, // ::/0 covers IPv6 only
	} {
		if got := db.Lookup(mustParse(t, tt.ip)); !reflect.DeepEqual(got.Sources, tt.want) {
			t.Errorf("Lookup(%s).Sources = %v, want %v", tt.ip, got.Sources, tt.want)
		}
	}
}

func TestListMalformed(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"garbage", []string{"# ok", "192.0.2.1", "", "not-an-ip", "192.0.2.2"}, []string{"line 4", `"not-an-ip"`, "not loaded"}},
		{"several", []string{"192.0.2.1", "192.0.2.300", "10.0.0.0/8", "10.0.0.0/33", "1.2.3.4 5.6.7.8"}, []string{"line 2", `"192.0.2.300"`, "(and 2 more bad lines)"}},
		{"zone", []string{"fe80::1%eth0"}, []string{"line 1"}},
		{"prefix length", []string{"2001:db8::/129"}, []string{"line 1"}},
		{"leading zeros", []string{"010.0.0.1"}, []string{"line 1"}},
		{"long line", []string{"192.0.2.1", strings.Repeat("1", 70000)}, []string{"line 2", "longer than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".txt")
			ipinteltest.WriteList(t, path, tt.lines...)
			db, err := ipintel.Open(ipintel.Config{Lists: []ipintel.List{{Kind: ipintel.KindVPN, Path: path}}})
			if err == nil {
				db.Close()
				t.Fatal("Open accepted a malformed list")
			}
			if standing.ErrorCode(err) != standing.EINVALID {
				t.Errorf("code = %q, want EINVALID", standing.ErrorCode(err))
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		spec string
		want ipintel.List
		err  string
	}{
		{"tor:/var/lib/standing/tor-exits.txt", ipintel.List{Kind: ipintel.KindTor, Path: "/var/lib/standing/tor-exits.txt"}, ""},
		{"vpn:corp-vpns=/etc/standing/vpn.txt", ipintel.List{Kind: ipintel.KindVPN, Label: "corp-vpns", Path: "/etc/standing/vpn.txt"}, ""},
		{" hosting:relative/cloud.txt ", ipintel.List{Kind: ipintel.KindHosting, Path: "relative/cloud.txt"}, ""},
		{"proxy:/odd/dir=name/list.txt", ipintel.List{Kind: ipintel.KindPublicProxy, Path: "/odd/dir=name/list.txt"}, ""},
		{"residential_proxy:rp=x.txt", ipintel.List{Kind: ipintel.KindResidentialProxy, Label: "rp", Path: "x.txt"}, ""},
		{"anonymous:=/a.txt", ipintel.List{Kind: ipintel.KindAnonymous, Path: "=/a.txt"}, ""},
		{"/just/a/path.txt", ipintel.List{}, "KIND:PATH"},
		{"evil:/x.txt", ipintel.List{}, `unknown kind "evil"`},
		{"tor:", ipintel.List{}, "path is empty"},
		{"tor:label=", ipintel.List{}, "path is empty"},
	}
	for _, tt := range tests {
		got, err := ipintel.ParseList(tt.spec)
		if tt.err != "" {
			if standing.ErrorCode(err) != standing.EINVALID || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseList(%q) err = %v, want EINVALID with %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseList(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
			continue
		}
		again, err := ipintel.ParseList(got.String())
		if err != nil || again != got {
			t.Errorf("ParseList(%q.String()) = %+v, %v; want %+v", tt.spec, again, err, got)
		}
	}
}

func TestParseIP(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"192.0.2.1", "192.0.2.1"},
		{" 192.0.2.1\n", "192.0.2.1"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:DB8:0:0::1", "2001:db8::1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"::ffff:c000:0201", "192.0.2.1"},
		{"::1", "::1"},
		{"", ""},
		{"localhost", ""},
		{"192.0.2.256", ""},
		{"192.0.2", ""},
		{"0192.0.2.1", ""},
		{"192.0.2.1/32", ""},
		{"fe80::1%eth0", ""},
		{"[::1]", ""},
		{"1.2.3.4:80", ""},
		{strings.Repeat("x", 10000), ""},
	}
	for _, tt := range tests {
		got, err := ipintel.ParseIP(tt.in)
		if tt.want == "" {
			if standing.ErrorCode(err) != standing.EINVALID || !strings.Contains(standing.ErrorMessage(err), "is not an IP address") {
				t.Errorf("ParseIP(%.20q) = %v, %v; want EINVALID, not an IP address", tt.in, got, err)
			}
			if len(standing.ErrorMessage(err)) > 100 {
				t.Errorf("ParseIP(%.20q) message is %d bytes long", tt.in, len(standing.ErrorMessage(err)))
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseIP(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "vpn.txt")
	asn := filepath.Join(dir, "asn.mmdb")
	ipinteltest.WriteList(t, list, "192.0.2.0/24")
	ipinteltest.WriteASN(t, asn, map[string]ipinteltest.ASN{"192.0.2.0/24": {Number: 64500, Org: "Old"}})
	db := ipinteltest.MustOpen(t, ipintel.Config{MMDB: []string{asn}, Lists: []ipintel.List{{Kind: ipintel.KindVPN, Path: list}}})
	a, b := mustParse(t, "192.0.2.1"), mustParse(t, "198.51.100.1")

	// Lookups go on from many goroutines while the files change and reload.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				info := db.Lookup(a)
				if info.ASN != 64500 && info.ASN != 64501 {
					t.Errorf("mid-reload Lookup(%s) = %+v", a, info)
					return
				}
			}
		})
	}
	for i := range 5 {
		ipinteltest.WriteASN(t, asn, map[string]ipinteltest.ASN{"192.0.2.0/24": {Number: 64500 + uint(i%2), Org: "Flip"}})
		if err := db.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()

	ipinteltest.WriteList(t, list, "198.51.100.0/24")
	ipinteltest.WriteASN(t, asn, map[string]ipinteltest.ASN{"192.0.2.0/24": {Number: 64999, Org: "New"}})
	if err := db.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := db.Lookup(a); got.VPN || got.ASN != 64999 {
		t.Errorf("after reload Lookup(%s) = %+v, want no VPN and AS64999", a, got)
	}
	if got := db.Lookup(b); !got.VPN {
		t.Errorf("after reload Lookup(%s) = %+v, want VPN", b, got)
	}

	// A broken file fails the reload and the DB keeps what it had.
	ipinteltest.WriteList(t, list, "198.51.100.0/24", "oops")
	if err := db.Reload(); standing.ErrorCode(err) != standing.EINVALID {
		t.Errorf("Reload with a broken list: err = %v, want EINVALID", err)
	}
	if got := db.Lookup(b); !got.VPN || got.ASN != 0 {
		t.Errorf("after failed reload Lookup(%s) = %+v, want the old answer", b, got)
	}

	db.Close()
	if got := db.Lookup(b); !reflect.DeepEqual(got, ipintel.Info{}) {
		t.Errorf("after Close Lookup = %+v, want nothing", got)
	}
	if db.Sources() != nil {
		t.Errorf("after Close Sources() = %v, want nil", db.Sources())
	}
	if err := db.Reload(); err == nil {
		t.Error("Reload after Close succeeded")
	}
}

func TestKindValid(t *testing.T) {
	for _, k := range []ipintel.Kind{ipintel.KindAnonymous, ipintel.KindVPN, ipintel.KindPublicProxy, ipintel.KindResidentialProxy, ipintel.KindTor, ipintel.KindHosting} {
		if !k.Valid() {
			t.Errorf("%q.Valid() = false", k)
		}
	}
	for _, k := range []ipintel.Kind{"", "VPN", "public_proxy"} {
		if k.Valid() {
			t.Errorf("%q.Valid() = true", k)
		}
	}
}

func TestKindFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.txt")
	ipinteltest.WriteList(t, path, "192.0.2.1")
	for _, tt := range []struct {
		kind ipintel.Kind
		want ipintel.Flags
	}{
		{ipintel.KindAnonymous, ipintel.Flags{Anonymous: true}},
		{ipintel.KindVPN, ipintel.Flags{Anonymous: true, VPN: true}},
		{ipintel.KindPublicProxy, ipintel.Flags{Anonymous: true, PublicProxy: true}},
		{ipintel.KindResidentialProxy, ipintel.Flags{Anonymous: true, ResidentialProxy: true}},
		{ipintel.KindTor, ipintel.Flags{Anonymous: true, Tor: true}},
		{ipintel.KindHosting, ipintel.Flags{Hosting: true}},
	} {
		db := ipinteltest.MustOpen(t, ipintel.Config{Lists: []ipintel.List{{Kind: tt.kind, Path: path}}})
		if got := db.Lookup(mustParse(t, "192.0.2.1")).Flags; got != tt.want {
			t.Errorf("%s list: flags = %+v, want %+v", tt.kind, got, tt.want)
		}
	}
}
