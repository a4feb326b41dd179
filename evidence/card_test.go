package evidence

import (
	"strings"
	"testing"
)

func TestLuhn(t *testing.T) {
	tests := []struct {
		digits string
		want   bool
	}{
		{"4111111111111111", true},  // Visa test number
		{"4111111111111112", false}, // last digit off by one
		{"4012888888881881", true},  // Visa
		{"5555555555554444", true},  // Mastercard
		{"2223003122003222", true},  // Mastercard 2-series
		{"378282246310005", true},   // American Express
		{"6011111111111117", true},  // Discover
		{"3530111333300000", true},  // JCB
		{"30569309025904", true},    // Diners Club
		{"6200000000000005", true},  // UnionPay
		{"79927398713", true},       // the textbook example
		{"79927398710", false},
		{"1234567812345678", false},
		{"0000000000000000", true},
		{"", false},
		{"4111 1111 1111 1111", false}, // digits only
		{"411111111111111a", false},
		{"٤١١١", false}, // Arabic-Indic digits are not ASCII digits
	}
	for _, tt := range tests {
		if got := Luhn(tt.digits); got != tt.want {
			t.Errorf("Luhn(%q) = %v, want %v", tt.digits, got, tt.want)
		}
	}
}

// withCheckDigit appends the digit that makes prefix pass the Luhn check.
func withCheckDigit(prefix string) string {
	for d := '0'; d <= '9'; d++ {
		if s := prefix + string(d); Luhn(s) {
			return s
		}
	}
	panic("unreachable")
}

// grouped writes digits in groups of four.
func grouped(digits string) string {
	var parts []string
	for len(digits) > 4 {
		parts, digits = append(parts, digits[:4]), digits[4:]
	}
	return strings.Join(append(parts, digits), " ")
}

func TestContainsCardNumber(t *testing.T) {
	order := withCheckDigit("812345678901234") // 16 digits, passes Luhn, no card scheme starts with 8
	visa15 := withCheckDigit("41111111111111") // 15 digits: Luhn passes, but Visa numbers are 13, 16 or 19 long
	mir := withCheckDigit("220012345678901")
	tests := []struct {
		name, text, want string // want is the masked number, "" for none
	}{
		{"grouped", "Card number 4111 1111 1111 1111 valid thru 12/27", "**** **** **** 1111"},
		{"dashes", "4111-1111-1111-1111", "****-****-****-1111"},
		{"together", "Paid with 4111111111111111.", "************1111"},
		{"two spaces from OCR", "4111  1111  1111  1111", "****  ****  ****  1111"},
		{"no-break spaces", "4111\u00a01111\u00a01111\u00a01111", "****\u00a0****\u00a0****\u00a01111"},
		{"OCR lost a space", "4111 111111111111", "**** ********1111"},
		{"every digit apart", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "* * * * * * * * * * * * 1 1 1 1"},
		{"fullwidth digits", "４１１１ １１１１ １１１１ １１１１", "**** **** **** １１１１"},
		{"amex 4-6-5", "AMEX 3782 822463 10005", "**** ****** *0005"},
		{"mastercard", "5555 5555 5555 4444", "**** **** **** 4444"},
		{"mastercard 2-series", "2223 0031 2200 3222", "**** **** **** 3222"},
		{"mir", grouped(mir), "**** **** **** " + mir[12:]},
		{"discover", "6011 1111 1111 1117", "**** **** **** 1117"},
		{"jcb", "3530 1113 3330 0000", "**** **** **** 0000"},
		{"diners 4-6-4", "3056 930902 5904", "**** ****** 5904"},
		{"first sixteen of 19", "4111 1111 1111 1111 003", "**** **** **** 1111"},
		{"second of two numbers", "Order 8000 0000 0000 0001, card 4111 1111 1111 1111", "**** **** **** 1111"},
		{"on its own line", "Statement\n4111 1111 1111 1111\nThank you", "**** **** **** 1111"},

		{"masked", "**** **** **** 1111", ""},
		{"masked with x", "XXXX XXXX XXXX 1111", ""},
		{"partly masked", "4111 11** **** 1111", ""},
		{"fails Luhn", "4111 1111 1111 1112", ""},
		{"too short", "4111 1111 1111", ""},
		{"too long", "41111111111111111111", ""},
		{"date", "2024-05-12 14:30", ""},
		{"dates in a row", "12 05 2024 13 05 2024", ""},
		{"order number", "Order ID: " + order, ""},
		{"order number grouped", "Order " + grouped(order), ""},
		{"scheme length", visa15, ""},
		{"phone with plus", "+" + withCheckDigit("411111111111111"), ""},
		{"IBAN", "IBAN DE89 " + grouped(withCheckDigit("411111111111111")) + " 00", ""},
		{"IBAN with letters", "GB29 NWBK " + grouped(withCheckDigit("601111111111111")), ""},
		{"glued to letters", "INV" + withCheckDigit("411111111111111"), ""},
		{"two-digit groups", "41 11 11 11 11 11 11 11", ""},
		{"split across lines", "4111 1111\n1111 1111", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ContainsCardNumber(tt.text)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("ContainsCardNumber(%q) = %q, %v; want %q, %v", tt.text, got, ok, tt.want, tt.want != "")
			}
		})
	}
}

func TestFixOCRDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"4111 1l11 111I 1111", "4111 1111 1111 1111"},
		{"4O12 8888 8888 l88l", "4012 8888 8888 1881"},
		{"JOHN SMITH", "JOHN SMITH"},
		{"Sold 12 items", "Sold 12 items"},
		{"lO", "lO"},       // no digits: a word
		{"1l", "1l"},       // one digit is not enough
		{"12/27", "12/27"}, // a slash is not a confusable
		{"4111-1l11", "4111-1111"},
	}
	for _, tt := range tests {
		if got := fixOCRDigits(tt.in); got != tt.want {
			t.Errorf("fixOCRDigits(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTSV(t *testing.T) {
	tsv := "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n" +
		"1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n" +
		"5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t90\t4111\n" +
		"5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t80\t1111\n" +
		"5\t1\t2\t1\t1\t1\t0\t0\t10\t10\t40\tJO\n" +
		"5\t1\t2\t1\t1\t2\t0\t0\t10\t10\tx\t \n"
	text, conf, chars := parseTSV(tsv)
	if want := "4111 1111\nJO"; text != want {
		t.Errorf("text = %q, want %q", text, want)
	}
	if chars != 10 {
		t.Errorf("chars = %d, want 10", chars)
	}
	if want := (90*4 + 80*4 + 40*2) / 10.0; conf != want {
		t.Errorf("conf = %v, want %v", conf, want)
	}
}

func FuzzContainsCardNumber(f *testing.F) {
	for _, s := range []string{
		"4111 1111 1111 1111", "4111-1111-1111-1111", "**** **** **** 1111", "3782 822463 10005",
		"DE89 3704 0044 0532 0130 00", "+4111111111111111", "４１１１ １１１１ １１１１ １１１１",
		"4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "\xff4111111111111111\xfe", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		masked, ok := ContainsCardNumber(text)
		if !ok {
			if masked != "" {
				t.Fatalf("not found but masked = %q", masked)
			}
			return
		}
		digits, stars := 0, 0
		for _, r := range masked {
			if _, d := digitValue(r); d {
				digits++
			} else if r == '*' {
				stars++
			}
		}
		if digits != 4 || stars < 9 || stars > 15 {
			t.Fatalf("masked %q shows %d digits and %d stars; want 4 and 9–15", masked, digits, stars)
		}
		if _, again := ContainsCardNumber(masked); again {
			t.Fatalf("the masked number %q still counts as a card number", masked)
		}
	})
}
