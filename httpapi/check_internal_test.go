package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"standing"
)

func TestParseCheck(t *testing.T) {
	cases := []struct {
		in, account, capability string
		ok                      bool
	}{
		{`{"account_id":"acc_1","capability":"pay"}`, "acc_1", "pay", true},
		{" {\n \"capability\" : \"pay\" ,\t\"account_id\":\"acc_1\" } \n", "acc_1", "pay", true},
		{`{"account_id":"acc_1"}`, "", "", false},
		{`{"account_id":"acc_1","capability":"pay","x":1}`, "", "", false},
		{`{"account_id":"acc_1","account_id":"acc_2"}`, "", "", false},
		{`{"account_id":"a\"b","capability":"pay"}`, "", "", false},
		{`{"account_id":1,"capability":"pay"}`, "", "", false},
		{`{"account_id":"acc_1","capability":"pay"}x`, "", "", false},
		{`{"account_id":"acc_1","capability":"pay"`, "", "", false},
		{`{"account_id":"acc_1" "capability":"pay"}`, "", "", false},
		{``, "", "", false},
	}
	for _, c := range cases {
		a, cpb, ok := parseCheck([]byte(c.in))
		cp := string(cpb)
		if ok != c.ok || a != c.account || cp != c.capability {
			t.Errorf("parseCheck(%q) = %q, %q, %v; want %q, %q, %v", c.in, a, cp, ok, c.account, c.capability, c.ok)
		}
	}
}

// FuzzParseCheck checks that the fast path never accepts what encoding/json would read
// differently.
func FuzzParseCheck(f *testing.F) {
	for _, s := range []string{`{"account_id":"acc_1","capability":"pay"}`, `{"capability":"x","account_id":"y"}`, `{"account_id":"\u0061"}`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, cb, ok := parseCheck([]byte(s))
		c := string(cb)
		if !ok {
			return
		}
		var in checkRequest
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil || dec.More() {
			t.Fatalf("fast path accepted %q that encoding/json refuses: %v", s, err)
		}
		if in.AccountID != a || in.Capability != c {
			t.Fatalf("fast path read %q as %q/%q, encoding/json as %q/%q", s, a, c, in.AccountID, in.Capability)
		}
	})
}

// TestAppendDecisionMatchesEncodingJSON keeps the hand-written answer identical in meaning
// to what encoding/json would write.
func TestAppendDecisionMatchesEncodingJSON(t *testing.T) {
	end := time.Date(2026, 11, 30, 15, 57, 50, 793732000, time.UTC)
	for _, d := range []standing.Decision{
		{Allowed: true},
		{ReasonCode: "risk_review", RestrictionID: "rst_1", Message: "Paused \"now\" <b> & \n tab\t ünï \u2028 \x01", Remedy: "Appeal.", EndsAt: &end, Appealable: true},
		{ReasonCode: "account_erased", Message: "gone"},
	} {
		var buf bytes.Buffer
		appendDecision(&buf, &d)
		var got, want map[string]any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("hand-written JSON %s does not parse: %v", buf.Bytes(), err)
		}
		b, _ := json.Marshal(d)
		json.Unmarshal(b, &want)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if !bytes.Equal(gb, wb) {
			t.Errorf("appendDecision = %s, encoding/json = %s", gb, wb)
		}
	}
}
