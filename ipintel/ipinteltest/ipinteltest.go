// Package ipinteltest writes MaxMind-format database files and CIDR lists for tests, so
// any package's tests can give ipintel known answers without real GeoIP files.
//
// Networks are given as map keys: an address ("192.0.2.1", a /32 or /128) or a prefix
// ("192.0.2.0/24", "2001:db8::/32"). Broader networks are written first, so a narrower
// one inside them overrides them for its own addresses. Reserved ranges such as the
// documentation networks (192.0.2.0/24, 2001:db8::/32) are allowed.
package ipinteltest

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"standing/ipintel"
)

// The database_type each writer puts in the metadata.
const (
	AnonymousIPType = "GeoIP2-Anonymous-IP"
	ASNType         = "GeoLite2-ASN"
	CountryType     = "GeoLite2-Country"
)

// ASN is one record of an ASN database.
type ASN struct {
	Number uint
	Org    string
}

// WriteAnonymousIP writes a GeoIP2 Anonymous IP database to path. Each flag set becomes
// its field (is_anonymous, is_anonymous_vpn, is_public_proxy, is_residential_proxy,
// is_tor_exit_node, is_hosting_provider); as in MaxMind's files, false flags are left out.
// Anonymous is written only if set: ipintel infers it from the other flags anyway.
func WriteAnonymousIP(t testing.TB, path string, nets map[string]ipintel.Flags) {
	t.Helper()
	recs := make(map[string]map[string]any, len(nets))
	for n, f := range nets {
		rec := map[string]any{}
		set := func(key string, v bool) {
			if v {
				rec[key] = true
			}
		}
		set("is_anonymous", f.Anonymous)
		set("is_anonymous_vpn", f.VPN)
		set("is_public_proxy", f.PublicProxy)
		set("is_residential_proxy", f.ResidentialProxy)
		set("is_tor_exit_node", f.Tor)
		set("is_hosting_provider", f.Hosting)
		recs[n] = rec
	}
	WriteRecords(t, path, AnonymousIPType, recs)
}

// WriteASN writes a GeoLite2 ASN database to path, with autonomous_system_number and
// autonomous_system_organization for each network.
func WriteASN(t testing.TB, path string, nets map[string]ASN) {
	t.Helper()
	recs := make(map[string]map[string]any, len(nets))
	for n, a := range nets {
		recs[n] = map[string]any{
			"autonomous_system_number":       a.Number,
			"autonomous_system_organization": a.Org,
		}
	}
	WriteRecords(t, path, ASNType, recs)
}

// WriteCountry writes a GeoLite2 Country database to path, with country.iso_code and
// registered_country.iso_code both set to each network's code.
func WriteCountry(t testing.TB, path string, nets map[string]string) {
	t.Helper()
	recs := make(map[string]map[string]any, len(nets))
	for n, code := range nets {
		recs[n] = map[string]any{
			"country":            map[string]any{"iso_code": code},
			"registered_country": map[string]any{"iso_code": code},
		}
	}
	WriteRecords(t, path, CountryType, recs)
}

// WriteRecords writes a database of any type to path, with the given record for each
// network. Values may be bool, string, float64, signed or unsigned integers (written as
// unsigned 32-bit when not negative), []any and map[string]any.
func WriteRecords(t testing.TB, path, databaseType string, nets map[string]map[string]any) {
	t.Helper()
	if err := writeRecords(path, databaseType, nets); err != nil {
		t.Fatalf("ipinteltest: writing %s: %v", path, err)
	}
}

func writeRecords(path, databaseType string, nets map[string]map[string]any) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            databaseType,
		Description:             map[string]string{"en": "Standing test fixture"},
		Languages:               []string{"en"},
		IncludeReservedNetworks: true,
		RecordSize:              28,
	})
	if err != nil {
		return err
	}
	type entry struct {
		p   netip.Prefix
		rec map[string]any
	}
	var entries []entry
	for n, rec := range nets {
		p, err := parseNet(n)
		if err != nil {
			return err
		}
		entries = append(entries, entry{p, rec})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(a.p.Bits(), b.p.Bits()); c != 0 {
			return c
		}
		return a.p.Addr().Compare(b.p.Addr())
	})
	for _, e := range entries {
		v, err := toMMDB(e.rec)
		if err != nil {
			return fmt.Errorf("%s: %w", e.p, err)
		}
		ipn := &net.IPNet{IP: e.p.Addr().AsSlice(), Mask: net.CIDRMask(e.p.Bits(), e.p.Addr().BitLen())}
		if err := tree.Insert(ipn, v); err != nil {
			return fmt.Errorf("%s: %w", e.p, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseNet parses a map key: an address or a prefix.
func parseNet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// toMMDB converts a Go value to the mmdbwriter type that encodes it.
func toMMDB(v any) (mmdbtype.DataType, error) {
	switch v := v.(type) {
	case bool:
		return mmdbtype.Bool(v), nil
	case string:
		return mmdbtype.String(v), nil
	case float64:
		return mmdbtype.Float64(v), nil
	case int:
		if v < 0 {
			return mmdbtype.Int32(v), nil
		}
		return mmdbtype.Uint32(v), nil
	case int64:
		if v < 0 {
			return mmdbtype.Int32(v), nil
		}
		return mmdbtype.Uint32(v), nil
	case uint:
		return mmdbtype.Uint32(v), nil
	case uint32:
		return mmdbtype.Uint32(v), nil
	case uint64:
		return mmdbtype.Uint64(v), nil
	case []any:
		s := make(mmdbtype.Slice, 0, len(v))
		for _, x := range v {
			d, err := toMMDB(x)
			if err != nil {
				return nil, err
			}
			s = append(s, d)
		}
		return s, nil
	case map[string]any:
		m := make(mmdbtype.Map, len(v))
		for k, x := range v {
			d, err := toMMDB(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			m[mmdbtype.String(k)] = d
		}
		return m, nil
	}
	return nil, fmt.Errorf("cannot write a %T", v)
}

// WriteList writes a CIDR list file to path, one entry a line.
func WriteList(t testing.TB, path string, entries ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(entries, "\n")+"\n"), 0o644); err != nil {
		t.Fatalf("ipinteltest: %v", err)
	}
}

// MustOpen opens a DB over cfg, failing the test on error, and closes it when the test
// ends.
func MustOpen(t testing.TB, cfg ipintel.Config) *ipintel.DB {
	t.Helper()
	db, err := ipintel.Open(cfg)
	if err != nil {
		t.Fatalf("ipintel.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
