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
		want, err := json.Marshal(featureWire{
			V: featureFormat, Total: st.total, Newest: st.newest, IPs: st.ips, Devices: st.devices,
			Countries: st.countries, Net: st.net, Profile: st.profile, Declines: st.declines,
			Orders: st.orders, Complaint: st.complaint, LoginFail: st.loginFail, IDs: st.ids, Cur: st.cur,
		})
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
