package ipintel

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"standing"
)

// mmdbKind is what an .mmdb file's records hold, as bits.
type mmdbKind uint8

const (
	mmdbAnonymous mmdbKind = 1 << iota // top-level is_anonymous, is_anonymous_vpn, …
	mmdbASN                            // top-level autonomous_system_number and _organization
	mmdbGeo                            // country, registered_country, traits.autonomous_system_*
)

// mmdbKinds maps each accepted database_type to what its records hold. The list follows
// the types MaxMind's own GeoIP2 reader accepts, plus Anonymous Plus.
var mmdbKinds = map[string]mmdbKind{
	"GeoIP2-Anonymous-IP":  mmdbAnonymous,
	"GeoIP-Anonymous-Plus": mmdbAnonymous,

	"GeoLite2-ASN":                        mmdbASN,
	"GeoIP2-ASN":                          mmdbASN,
	"GeoIP2-ISP":                          mmdbASN,
	"GeoIP2-Precision-ISP":                mmdbASN,
	"DBIP-ASN-Lite (compat=GeoLite2-ASN)": mmdbASN,

	"GeoLite2-Country":                      mmdbGeo,
	"GeoIP2-Country":                        mmdbGeo,
	"GeoLite2-City":                         mmdbGeo,
	"GeoIP2-City":                           mmdbGeo,
	"GeoIP2-City-Africa":                    mmdbGeo,
	"GeoIP2-City-Asia-Pacific":              mmdbGeo,
	"GeoIP2-City-Europe":                    mmdbGeo,
	"GeoIP2-City-North-America":             mmdbGeo,
	"GeoIP2-City-South-America":             mmdbGeo,
	"GeoIP2-Precision-City":                 mmdbGeo,
	"GeoIP-City-Redacted-US":                mmdbGeo,
	"GeoIP2-Enterprise":                     mmdbGeo,
	"GeoIP-Enterprise-Redacted-US":          mmdbGeo,
	"DBIP-Country-Lite":                     mmdbGeo,
	"DBIP-Country":                          mmdbGeo,
	"DBIP-City-Lite":                        mmdbGeo,
	"DBIP-Location (compat=City)":           mmdbGeo,
	"DBIP-ISP (compat=Enterprise)":          mmdbGeo,
	"DBIP-Location-ISP (compat=Enterprise)": mmdbGeo,
}

// KnownDatabaseTypes lists the .mmdb database_type values Open accepts, sorted.
func KnownDatabaseTypes() []string {
	var ts []string
	for t := range mmdbKinds {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// mmdbSource is one open .mmdb file.
type mmdbSource struct {
	label string
	path  string
	kind  mmdbKind
	r     *maxminddb.Reader
}

// openMMDB reads the file at path into memory and opens it. Reading it whole, rather than
// mapping it, means a later rewrite of the file cannot reach a reader still in use, and a
// reader dropped by Reload is freed by the garbage collector with no Close to race.
func openMMDB(path string, verify bool) (*mmdbSource, error) {
	if path == "" {
		return nil, standing.Errorf(standing.EINVALID, "ipintel: an .mmdb path is empty")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ipintel: %w", err)
	}
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, standing.Errorf(standing.EINVALID, "ipintel: %s is not a MaxMind DB file: %v", path, err)
	}
	kind, ok := mmdbKinds[r.Metadata.DatabaseType]
	if !ok {
		return nil, standing.Errorf(standing.EINVALID, "ipintel: %s has database type %q, which ipintel does not read; it reads %s",
			path, r.Metadata.DatabaseType, strings.Join(KnownDatabaseTypes(), ", "))
	}
	if verify {
		if err := r.Verify(); err != nil {
			return nil, standing.Errorf(standing.EINVALID, "ipintel: %s fails verification: %v", path, err)
		}
	}
	return &mmdbSource{label: labelOf(path), path: path, kind: kind, r: r}, nil
}

func (m *mmdbSource) source() Source {
	return Source{
		Label:        m.label,
		Path:         m.path,
		DatabaseType: m.r.Metadata.DatabaseType,
		Built:        m.r.Metadata.BuildTime().UTC(),
	}
}

// The record shapes: only the fields Info needs, so the decoder skips the rest.
type (
	anonRecord struct {
		Anonymous        bool `maxminddb:"is_anonymous"`
		VPN              bool `maxminddb:"is_anonymous_vpn"`
		PublicProxy      bool `maxminddb:"is_public_proxy"`
		ResidentialProxy bool `maxminddb:"is_residential_proxy"`
		Tor              bool `maxminddb:"is_tor_exit_node"`
		Hosting          bool `maxminddb:"is_hosting_provider"`
	}
	asnRecord struct {
		Number uint   `maxminddb:"autonomous_system_number"`
		Org    string `maxminddb:"autonomous_system_organization"`
	}
	isoRecord struct {
		ISOCode string `maxminddb:"iso_code"`
	}
	geoRecord struct {
		Country           isoRecord `maxminddb:"country"`
		RegisteredCountry isoRecord `maxminddb:"registered_country"`
		Traits            asnRecord `maxminddb:"traits"`
	}
)

// lookup adds what the file knows about ip to info. A record that cannot be decoded
// (a corrupt file) counts as knowing nothing.
func (m *mmdbSource) lookup(ip netip.Addr, info *Info) {
	res := m.r.Lookup(ip)
	if !res.Found() {
		return
	}
	said := false
	if m.kind&mmdbAnonymous != 0 {
		var rec anonRecord
		if res.Decode(&rec) == nil {
			f := Flags(rec)
			if f.Any() {
				info.Flags.or(f)
				said = true
			}
		}
	}
	if m.kind&mmdbASN != 0 {
		var rec asnRecord
		if res.Decode(&rec) == nil {
			said = info.addASN(rec) || said
		}
	}
	if m.kind&mmdbGeo != 0 {
		var rec geoRecord
		if res.Decode(&rec) == nil {
			code := rec.Country.ISOCode
			if code == "" {
				code = rec.RegisteredCountry.ISOCode
			}
			if code != "" {
				if info.Country == "" {
					info.Country = code
				}
				said = true
			}
			said = info.addASN(rec.Traits) || said
		}
	}
	if said {
		info.Sources = append(info.Sources, m.label)
	}
}

// addASN records rec in info unless an earlier source gave the AS; it reports whether
// rec says anything.
func (info *Info) addASN(rec asnRecord) bool {
	if rec.Number == 0 && rec.Org == "" {
		return false
	}
	if info.ASN == 0 && info.ASNOrg == "" {
		info.ASN, info.ASNOrg = rec.Number, rec.Org
	}
	return true
}
