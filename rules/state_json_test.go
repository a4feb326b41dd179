package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestAppendJSONMatchesEncodingJSON holds the hand-written encoder to the bytes
// encoding/json writes for the wire struct, over states of every shape.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	types := []string{EventLoginSucceeded, EventLoginFailed, EventOrderPlaced, EventPaymentDeclined, EventProfileChanged, EventComplaintReceived, "custom"}
	countries := []string{"", "DE", "FR", "Ü<&>\"\\x", "\x01"}
	for round := range 200 {
		var st FeatureState
		for i := range rng.IntN(90) {
			e := ev(fmt.Sprint(round, "-", i), types[rng.IntN(len(types))], ago(time.Duration(rng.IntN(2000))*time.Hour))
			if rng.IntN(3) > 0 {
				e.IP = ip(fmt.Sprintf("10.0.%d.%d", rng.IntN(3), rng.IntN(20)))
			}
			if rng.IntN(2) == 0 {
				e.DeviceID = fmt.Sprint("dev", rng.IntN(5))
			}
			e.Country = countries[rng.IntN(len(countries))]
			e.ASN = uint(rng.IntN(3))
			st.Apply(e)
		}
		want, err := json.Marshal(wireOf(&st))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := st.MarshalJSON()
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d:\n got %s\nwant %s", round, got, want)
		}
		var fast, slow featureWire
		if fast.parse(got) {
			if err := json.Unmarshal(got, &slow); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("round %d: the parser reads\n%+v\nencoding/json reads\n%+v", round, fast, slow)
			}
		} else if !bytes.Contains(got, []byte("\\")) {
			t.Fatalf("round %d: the parser refused %s", round, got)
		}
		var back FeatureState
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		again, _ := back.MarshalJSON()
		if !bytes.Equal(again, got) {
			t.Fatalf("round %d: the state does not survive a round trip", round)
		}
	}
}

// wireOf is the wire struct of a state, as encoding/json would write it.
func wireOf(st *FeatureState) featureWire {
	hashes := func(l []seenHash) []seenValue {
		var out []seenValue
		for _, x := range l {
			out = append(out, seenValue{V: fmt.Sprintf("%016x", x.V), Last: x.Last})
		}
		return out
	}
	w := featureWire{V: featureFormat, Total: st.total, Newest: st.newest, IPs: hashes(st.ips), Devices: hashes(st.devices),
		Countries: st.countries, Profile: st.profile, Declines: st.declines, Orders: st.orders,
		Complaint: st.complaint, LoginFail: st.loginFail, Cur: st.cur}
	for _, p := range st.net {
		nw := netWire{At: p.At, Country: p.Country, ASN: p.ASN}
		if p.IP != 0 {
			nw.IP = fmt.Sprintf("%016x", p.IP)
		}
		w.Net = append(w.Net, nw)
	}
	for _, id := range st.ids {
		w.IDs = append(w.IDs, fmt.Sprintf("%016x", id))
	}
	return w
}

// TestHashText: a hash reads back from its text, the text is what hash64 wrote before
// hashes were numbers in memory, and text of another form still reads as a value.
func TestHashText(t *testing.T) {
	for _, s := range []string{"", "10.0.0.1", "evt-1", "ünïcode"} {
		h := hashOf(s)
		text := string(appendHashText(nil, h))
		if text != hash64(s) || len(text) != 16 || hashFromText(text) != h || hashOfBytes([]byte(s)) != h {
			t.Errorf("%q: hash %x, text %q, hash64 %q, read back %x", s, h, text, hash64(s), hashFromText(text))
		}
	}
	// FNV-1a of "a", as hash/fnv computes it.
	if got := hash64("a"); got != "af63dc4c8601ec8c" {
		t.Errorf("hash64(a) = %s", got)
	}
	if hashFromText("not-a-hash") != hashOf("not-a-hash") || hashFromText("zzzzzzzzzzzzzzzz") != hashOf("zzzzzzzzzzzzzzzz") {
		t.Error("text that is not a hash does not read as its own hash")
	}
}

func TestParseRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, in := range []string{``, `{`, `{"v":1,"x":2}`, `{"v":"1"}`, `{"ids":["a\\"b"]}`, `{"v":1}x`, `{"cur":{"new_ip":1}}`, `{"net":[{"asn":-1}]}`} {
		var w featureWire
		if w.parse([]byte(in)) {
			t.Errorf("parse(%s) accepted it", in)
		}
	}
	var s FeatureState
	if err := json.Unmarshal([]byte(` { "v" : 1 , "total" : 3 , "ips" : [ { "v" : "ab" , "t" : 5 } ] , "cur" : { "new_ip" : true } } `), &s); err != nil || s.total != 3 || len(s.ips) != 1 || !s.cur.NewIP {
		t.Errorf("with spaces: %+v, %v", s, err)
	}
}

// hash64 is how hashes were written as text before they were numbers in memory.
func hash64(s string) string {
	return string(appendHashText(make([]byte, 0, 16), hashOf(s)))
}
