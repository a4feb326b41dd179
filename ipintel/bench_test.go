package ipintel_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"standing/ipintel"
	"standing/ipintel/ipinteltest"
)

// writeBigList writes n random prefixes, v4 and v6 mixed 3:1, and returns the path and
// probe addresses: half inside some prefix, half random.
func writeBigList(b *testing.B, n int) (string, []netip.Addr) {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var sb strings.Builder
	var probes []netip.Addr
	for i := range n {
		var p netip.Prefix
		if i%4 != 3 {
			a := netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			p = netip.PrefixFrom(a, 20+rng.IntN(13)).Masked()
		} else {
			var x [16]byte
			x[0], x[1] = 0x20, 0x01
			for j := 2; j < 16; j++ {
				x[j] = byte(rng.IntN(256))
			}
			p = netip.PrefixFrom(netip.AddrFrom16(x), 32+rng.IntN(97)).Masked()
		}
		fmt.Fprintln(&sb, p)
		if len(probes) < 4096 {
			probes = append(probes, p.Addr())
		}
	}
	for len(probes) < 8192 {
		probes = append(probes, netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}))
	}
	path := filepath.Join(b.TempDir(), "big.txt")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path, probes
}

func BenchmarkLookupList100k(b *testing.B) {
	path, probes := writeBigList(b, 100_000)
	db := ipinteltest.MustOpen(b, ipintel.Config{Lists: []ipintel.List{{Kind: ipintel.KindVPN, Path: path}}})
	b.ReportMetric(float64(db.Sources()[0].Ranges), "ranges")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		db.Lookup(probes[i%len(probes)])
	}
}

func BenchmarkLookupList100kParallel(b *testing.B) {
	path, probes := writeBigList(b, 100_000)
	db := ipinteltest.MustOpen(b, ipintel.Config{Lists: []ipintel.List{{Kind: ipintel.KindVPN, Path: path}}})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			db.Lookup(probes[i%len(probes)])
		}
	})
}

func BenchmarkOpenList100k(b *testing.B) {
	path, _ := writeBigList(b, 100_000)
	for b.Loop() {
		db, err := ipintel.Open(ipintel.Config{Lists: []ipintel.List{{Kind: ipintel.KindVPN, Path: path}}})
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

// writeBigMMDB writes Anonymous IP, ASN and Country databases with n /24 networks each
// and returns their paths and probes, half inside a network.
func writeBigMMDB(b *testing.B, n int) ([]string, []netip.Addr) {
	b.Helper()
	rng := rand.New(rand.NewPCG(9, 9))
	anon := map[string]ipintel.Flags{}
	asn := map[string]ipinteltest.ASN{}
	country := map[string]string{}
	var probes []netip.Addr
	for len(anon) < n {
		a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(223)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0})
		p := netip.PrefixFrom(a, 24).String()
		anon[p] = ipintel.Flags{Anonymous: true, VPN: rng.IntN(2) == 0, Hosting: rng.IntN(2) == 0}
		asn[p] = ipinteltest.ASN{Number: uint(64512 + rng.IntN(1000)), Org: fmt.Sprintf("Org %d", rng.IntN(1000))}
		country[p] = []string{"NL", "US", "DE", "GB", "FR"}[rng.IntN(5)]
		if len(probes) < 4096 {
			probes = append(probes, a.Next())
		}
	}
	for len(probes) < 8192 {
		probes = append(probes, netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}))
	}
	dir := b.TempDir()
	paths := []string{filepath.Join(dir, "anon.mmdb"), filepath.Join(dir, "asn.mmdb"), filepath.Join(dir, "country.mmdb")}
	ipinteltest.WriteAnonymousIP(b, paths[0], anon)
	ipinteltest.WriteASN(b, paths[1], asn)
	ipinteltest.WriteCountry(b, paths[2], country)
	return paths, probes
}

func BenchmarkLookupMMDB(b *testing.B) {
	paths, probes := writeBigMMDB(b, 20_000)
	for _, bb := range []struct {
		name  string
		paths []string
	}{
		{"anon", paths[:1]},
		{"asn", paths[1:2]},
		{"country", paths[2:]},
		{"all3", paths},
	} {
		b.Run(bb.name, func(b *testing.B) {
			db := ipinteltest.MustOpen(b, ipintel.Config{MMDB: bb.paths})
			for i := 0; b.Loop(); i++ {
				db.Lookup(probes[i%len(probes)])
			}
		})
	}
}

func BenchmarkLookupAll(b *testing.B) {
	paths, probes := writeBigMMDB(b, 20_000)
	list, _ := writeBigList(b, 100_000)
	db := ipinteltest.MustOpen(b, ipintel.Config{MMDB: paths, Lists: []ipintel.List{{Kind: ipintel.KindVPN, Path: list}}})
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			db.Lookup(probes[i%len(probes)])
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				db.Lookup(probes[i%len(probes)])
			}
		})
	})
}
