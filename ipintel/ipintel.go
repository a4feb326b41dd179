// Package ipintel says what is known about an IP address: whether it belongs to an
// anonymizer (VPN, public or residential proxy, Tor exit) or a hosting provider, which
// autonomous system announces it, and which country it is in. The risk rules read it.
//
// The operator configures the sources by path:
//
//   - MaxMind-format .mmdb files. The kind of each file comes from its metadata
//     database_type: GeoIP2 Anonymous IP and GeoIP Anonymous Plus (the anonymizer flags),
//     GeoLite2/GeoIP2 ASN and ISP (the AS number and organisation), GeoLite2/GeoIP2
//     Country, City and Enterprise (the country; Enterprise also the AS), and DB-IP's
//     files that declare themselves compatible with those. Any other type is refused
//     when the file is opened.
//   - Plain CIDR list files, each with a Kind saying which flag it sets. See List and
//     ParseList for the format.
//
// A DB reads every file into memory when it opens and never touches the files again, so
// an updater may replace or rewrite them at any time: Reload reads them anew and swaps
// the result in at once while lookups go on. Lookups are safe from many goroutines.
package ipintel

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"standing"
)

// Flags says which kinds of anonymizing or hosting network an address belongs to.
type Flags struct {
	// Anonymous is set when a source calls the address anonymous, and whenever VPN,
	// PublicProxy, ResidentialProxy or Tor is set. Hosting alone does not set it: a list
	// of data-centre ranges is no claim of anonymity (MaxMind's own hosting records carry
	// is_anonymous as well, so they do set it).
	Anonymous bool `json:"anonymous"`
	// VPN is set for an address of an anonymous VPN provider.
	VPN bool `json:"vpn"`
	// PublicProxy is set for an open or public proxy.
	PublicProxy bool `json:"public_proxy"`
	// ResidentialProxy is set for a suspected anonymizer on a residential ISP's network.
	ResidentialProxy bool `json:"residential_proxy"`
	// Tor is set for a Tor exit node.
	Tor bool `json:"tor"`
	// Hosting is set for a hosting provider or data centre.
	Hosting bool `json:"hosting"`
}

// or sets in f every flag set in g.
func (f *Flags) or(g Flags) {
	f.Anonymous = f.Anonymous || g.Anonymous
	f.VPN = f.VPN || g.VPN
	f.PublicProxy = f.PublicProxy || g.PublicProxy
	f.ResidentialProxy = f.ResidentialProxy || g.ResidentialProxy
	f.Tor = f.Tor || g.Tor
	f.Hosting = f.Hosting || g.Hosting
}

// Any reports whether any flag is set.
func (f Flags) Any() bool { return f != Flags{} }

// Info is what the sources know about one address. The zero Info means nothing is known.
type Info struct {
	Flags
	// ASN is the autonomous system number announcing the address; 0 if unknown.
	ASN uint `json:"asn,omitempty"`
	// ASNOrg is the organisation the autonomous system is registered to.
	ASNOrg string `json:"asn_org,omitempty"`
	// Country is the ISO 3166-1 alpha-2 code of the country the address is in, or,
	// failing that, of the country its network is registered in; "" if unknown.
	Country string `json:"country,omitempty"`
	// Sources are the labels of the files that know something about the address, in
	// configuration order: .mmdb files first, then lists. When two files of one kind both
	// know the AS or the country, the first configured wins and both are listed.
	Sources []string `json:"sources,omitempty"`
}

// Config names the files a DB reads. The zero Config is valid: its DB knows nothing.
type Config struct {
	// MMDB are paths of MaxMind-format database files. Each is labelled by its base name
	// (GeoLite2-ASN.mmdb) in Info.Sources.
	MMDB []string
	// Lists are the CIDR list files.
	Lists []List
	// Verify checks each .mmdb file's whole structure at Open and Reload, not just its
	// metadata. It takes seconds for a City database; use it for files from a source you
	// do not fully trust. Without it, a record that cannot be decoded is skipped at lookup.
	Verify bool
}

// Source describes one loaded file, for start-up logs and staleness checks.
type Source struct {
	// Label is how Info.Sources names the file.
	Label string `json:"label"`
	// Path is where the file was read from.
	Path string `json:"path"`
	// DatabaseType is the database_type of an .mmdb file; "" for a list.
	DatabaseType string `json:"database_type,omitempty"`
	// Kind is the flag a list sets; "" for an .mmdb file.
	Kind Kind `json:"kind,omitempty"`
	// Built is when an .mmdb file was built (from its metadata) or when a list file was
	// last modified.
	Built time.Time `json:"built"`
	// Ranges is the number of disjoint address ranges in a list after overlapping and
	// adjacent prefixes are merged; 0 for an .mmdb file.
	Ranges int `json:"ranges,omitempty"`
}

// DB answers lookups over the configured files. Its methods are safe for concurrent use.
type DB struct {
	cfg Config

	mu     sync.Mutex // serialises Reload and Close
	closed bool
	st     atomic.Pointer[state]
}

// state is one immutable load of every configured file.
type state struct {
	mmdbs   []*mmdbSource
	lists   []*listSource
	sources []Source
}

// Open reads every file cfg names and returns a DB over them. A file that is missing,
// unreadable or malformed, an .mmdb file of an unknown type, and two files with the same
// label are errors that name the file; malformed content is an EINVALID *standing.Error.
func Open(cfg Config) (*DB, error) {
	cfg.MMDB = append([]string(nil), cfg.MMDB...)
	cfg.Lists = append([]List(nil), cfg.Lists...)
	st, err := load(cfg)
	if err != nil {
		return nil, err
	}
	db := &DB{cfg: cfg}
	db.st.Store(st)
	return db, nil
}

// load reads every file of cfg.
func load(cfg Config) (*state, error) {
	st := &state{}
	labels := map[string]string{} // label → path
	claim := func(label, path string) error {
		if other, ok := labels[label]; ok {
			return standing.Errorf(standing.EINVALID, "ipintel: %s and %s both have the label %q; give one a label of its own", other, path, label)
		}
		labels[label] = path
		return nil
	}
	for _, path := range cfg.MMDB {
		m, err := openMMDB(path, cfg.Verify)
		if err != nil {
			return nil, err
		}
		if err := claim(m.label, path); err != nil {
			return nil, err
		}
		st.mmdbs = append(st.mmdbs, m)
		st.sources = append(st.sources, m.source())
	}
	for _, l := range cfg.Lists {
		ls, err := openList(l)
		if err != nil {
			return nil, err
		}
		if err := claim(ls.src.Label, l.Path); err != nil {
			return nil, err
		}
		st.lists = append(st.lists, ls)
		st.sources = append(st.sources, ls.src)
	}
	return st, nil
}

// Enrich sets what the sources know of the event's address (ip, already parsed) on it:
// the country, the AS and the anonymizer flags. A nil DB knows nothing.
func (db *DB) Enrich(in *standing.EventInput, ip netip.Addr) {
	if db == nil {
		return
	}
	info := db.Lookup(ip)
	in.Country, in.ASN = info.Country, info.ASN
	in.IPFlags = standing.IPFlags{Anonymous: info.Anonymous, VPN: info.VPN, Proxy: info.PublicProxy,
		ResidentialProxy: info.ResidentialProxy, Tor: info.Tor, Hosting: info.Hosting}
}

// Lookup returns what the files know about ip. An IPv4-mapped IPv6 address is looked up
// as the IPv4 address it maps, and a zone is ignored. An invalid address, or any address
// after Close, yields the zero Info.
func (db *DB) Lookup(ip netip.Addr) Info {
	st := db.st.Load()
	if st == nil || !ip.IsValid() {
		return Info{}
	}
	return st.lookup(ip.WithZone("").Unmap())
}

func (st *state) lookup(ip netip.Addr) Info {
	var info Info
	for _, m := range st.mmdbs {
		m.lookup(ip, &info)
	}
	for _, l := range st.lists {
		if l.contains(ip) {
			info.Flags.or(l.flags)
			info.Sources = append(info.Sources, l.src.Label)
		}
	}
	if info.VPN || info.PublicProxy || info.ResidentialProxy || info.Tor {
		info.Anonymous = true
	}
	return info
}

// Sources describes the loaded files in configuration order.
func (db *DB) Sources() []Source {
	st := db.st.Load()
	if st == nil {
		return nil
	}
	return append([]Source(nil), st.sources...)
}

// Reload reads every configured file again and, if all of them load, swaps them in at
// once; lookups under way finish on the old data. If any file fails, the DB keeps
// answering from what it had and Reload returns the error. Reload after Close is an error.
func (db *DB) Reload() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return fmt.Errorf("ipintel: reload of a closed DB")
	}
	st, err := load(db.cfg)
	if err != nil {
		return err
	}
	db.st.Store(st)
	return nil
}

// Close drops the loaded data; later lookups know nothing. The data is in memory, not
// mapped, so lookups still under way finish safely. Close always returns nil.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.closed = true
	db.st.Store(nil)
	return nil
}

// ParseIP parses untrusted text as an IP address, IPv4 ("192.0.2.1") or IPv6
// ("2001:db8::1"), ignoring surrounding white space. An IPv4-mapped IPv6 address
// ("::ffff:192.0.2.1") is returned as the IPv4 address, so it looks up and compares the
// same. Anything else, a zone ("fe80::1%eth0") included, is an EINVALID *standing.Error
// saying the text is not an IP address.
func ParseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, standing.Errorf(standing.EINVALID, "%s is not an IP address", quoteShort(s))
	}
	return a.Unmap(), nil
}

// quoteShort quotes untrusted text for an error message, cut to a length worth showing.
func quoteShort(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "…"
}

// labelOf is the default label of a file: its base name.
func labelOf(path string) string { return filepath.Base(path) }
