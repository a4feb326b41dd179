package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"standing"
	"standing/penalty"
)

// SellerSource gives the seller dashboard and the console's seller page their data, and
// records what staff report from the console; sqlstore.Store is one.
type SellerSource interface {
	// SellerStanding returns a seller's points, performance, sanctions, fines, fees and
	// notices; ENOTFOUND, EINVALID for a buyer account.
	SellerStanding(ctx context.Context, sellerID string) (penalty.SellerStanding, error)
	// RecordViolation records a violation; EINVALID names the field, ECONFLICT (case_id)
	// for a case reported before.
	RecordViolation(ctx context.Context, r penalty.Report, actor string, idem *standing.Idempotency) (penalty.Recorded, bool, error)
	// WithdrawViolation withdraws a violation; ENOTFOUND, ECONFLICT, EINVALID (note).
	WithdrawViolation(ctx context.Context, id string, w penalty.Withdrawal) (penalty.Violation, []standing.Restriction, error)
}

// sellerView is the seller dashboard in the words and numbers the page shows.
type sellerView struct {
	Summary      string
	SummaryClass string
	Notices      []noticeView
	Sanctions    []sanctionView
	Ledgers      []ledgerView
	Lifetime     string
	Perf         perfView
	Fines        []fineView
	Fees         []feeView
	// Staff is set on the console's view of a seller: the entries get withdraw buttons.
	Staff bool
	// Console is set on the console's seller page: the seller and the report form.
	Console *consoleSeller
}

type noticeView struct {
	ID, Kind, KindWords, Issued, Effective, Text, State string
	Bad                                                 bool
}

type sanctionView struct {
	ID, Kind, Title, Message, Paused, StillWorks, Until, Cause, AppealHref string
	Appealable, Severe                                                     bool
}

type ledgerView struct {
	Name, Title, Cap, Unit string
	Total                  int
	Next                   []string
	Entries                []entryView
	Strikes                []strikeView
}

type entryView struct {
	ID, Type, Case, At, FallsOff, Points string
}

type strikeView struct {
	Number, Cases     int
	FirstAt, FallsOff string
}

type perfView struct {
	Window, Note string
	Orders       int
	Evaluated    bool
	Metrics      []metricView
	Warnings     []perfWarningView
}

type metricView struct {
	Name, Title, Rate, Standard, CountOf string
	Breached                             bool
	Chart                                chartView
}

type perfWarningView struct {
	Metric, At, GraceEnds, Message, State string
	Open                                  bool
}

type fineView struct{ ID, Date, Amount, Reason string }

type feeView struct {
	ID, Description, Amount, Due, GraceEnds, State, StateWords, Paid string
	Overdue                                                          bool
}

// chartView is one metric's inline SVG chart of the window: the daily orders as bars and
// the metric's rate, cumulated from the window's first day, as a line against the standard.
type chartView struct {
	ID, Label                     string
	Width, Height                 int
	PlotTop, PlotBottom, PlotLeft int
	PlotRight                     int
	Line                          string
	Bars                          []barView
	ThresholdY                    string
	ThresholdLabel, MaxLabel      string
	FirstDay, LastDay             string
	LastX, LastY                  string
	Breached                      bool
}

type barView struct{ X, Y, W, H string }

// sellerPage serves GET /seller: the seller dashboard — points per ledger with the day each
// point falls off, performance against the standards with a chart of the window, active
// sanctions with end dates and an Appeal link, fines, fees and notices.
func (s *Server) sellerPage(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	if acc.Role != standing.RoleSeller {
		s.renderStatus(w, r, http.StatusForbidden, "message", "Seller dashboard", acc, "", message{
			Text: "The seller dashboard is for seller accounts, and " + acc.Email + " is a buyer account. Penalty points, performance standards and store sanctions apply only to sellers; your account page shows everything about your own standing.",
			Link: &link{Href: "/account", Label: "Go to your account page"}})
		return
	}
	if s.d.Sellers == nil {
		s.renderStatus(w, r, http.StatusServiceUnavailable, "message", "Seller dashboard", acc, "The seller dashboard is not available on this server.", message{})
		return
	}
	st, err := s.d.Sellers.SellerStanding(r.Context(), acc.ID)
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Seller dashboard", acc, standing.ErrorMessage(err), message{Text: "Try again in a moment.", Link: &link{Href: "/account", Label: "Your account"}})
		return
	}
	s.render(w, r, "seller", "Seller dashboard", &page{Account: acc, Data: s.sellerView(st, false)})
}

// sellerView turns a seller's standing into what the page shows.
func (s *Server) sellerView(st penalty.SellerStanding, staff bool) sellerView {
	p := s.d.Policy()
	now := st.At
	v := sellerView{Lifetime: lifetimeWords(p.Seller.PointLifetime.D()), Staff: staff,
		Summary: "Your store is open: nothing limits selling.", SummaryClass: "ok"}
	for _, sc := range st.Sanctions {
		sv := sanctionView{ID: sc.RestrictionID, Kind: kindWords(sc.Kind), Title: sc.Title, Message: sc.Message,
			Paused: sc.Removes.Words(), StillWorks: sc.Removes.Complement().Words(), Appealable: sc.Appealable,
			Severe: sc.Kind == penalty.KindClosure}
		if sc.EndsAt != nil {
			sv.Until = "Ends by itself on " + standing.FormatTime(*sc.EndsAt) + "."
		} else if sc.Kind == closureNotice {
			sv.Until = "Nothing is paused yet: the closure takes effect on the date above unless an appeal succeeds first."
			sv.Paused = "nothing yet"
		} else if sc.Kind == "fee" {
			sv.Until = "Until the fee is reported paid."
		} else {
			sv.Until = "Until it is lifted by an appeal or a reviewer."
		}
		if sc.LedgerTitle != "" {
			sv.Cause = "Points for " + lowerInitial(sc.LedgerTitle)
		}
		if sc.Appealable {
			sv.AppealHref = "/appeals/new?restriction=" + sc.RestrictionID
		}
		v.Sanctions = append(v.Sanctions, sv)
	}
	switch {
	case hasKind(st.Sanctions, penalty.KindClosure):
		v.Summary, v.SummaryClass = "Your store is closed. You can still see your orders, withdraw your funds, receive payouts and appeal.", "bad"
	case len(st.Sanctions) > 0:
		v.Summary, v.SummaryClass = "Selling is limited: see the sanctions below, each with its end and an Appeal button.", "warn"
	case hasPending(st.Notices) || hasOpen(st.PerformanceWarnings):
		v.Summary, v.SummaryClass = "Your store is open, with warnings: see the notices below.", "warn"
	}
	if staff {
		v.Summary = strings.NewReplacer("Your store", "The store", "You can", "The seller can", "your ", "their ").Replace(v.Summary)
	}
	for _, n := range st.Notices {
		nv := noticeView{ID: n.ID, Kind: n.Kind, KindWords: noticeWords(n.Kind), Issued: standing.FormatTime(n.IssuedAt), Text: n.Text,
			State: n.State, Bad: n.Kind == penalty.NoticeClosure && n.State == penalty.NoticePending}
		if n.Kind == penalty.NoticeClosure {
			nv.Effective = standing.FormatTime(n.EffectiveAt)
			switch n.State {
			case penalty.NoticePending:
				nv.State = "takes effect on " + nv.Effective
			case penalty.NoticeApplied:
				nv.State = "applied"
			case penalty.NoticeCancelled:
				nv.State = "cancelled"
			}
		} else {
			nv.State = ""
		}
		v.Notices = append(v.Notices, nv)
	}
	titles := map[string]string{}
	for _, t := range penalty.ViolationTypes(p) {
		titles[t.Code] = t.Title
	}
	for _, l := range st.Points.Ledgers {
		lv := ledgerView{Name: l.Ledger, Title: l.Title, Total: l.Total, Unit: "points"}
		if l.Total == 1 {
			lv.Unit = "point"
		}
		if l.DailyCap > 0 {
			lv.Cap = fmt.Sprintf("At most %d points a day count; %d counted today.", l.DailyCap, l.CountedToday)
		}
		for _, n := range l.Next {
			words := n.Words
			if n.PointsToGo > 0 {
				words += fmt.Sprintf(" (%d to go)", n.PointsToGo)
			}
			lv.Next = append(lv.Next, words)
		}
		for _, e := range l.Entries {
			ev := entryView{ID: e.ViolationID, Type: titles[e.Type], Case: e.CaseID, At: dayDate(e.At), FallsOff: dayDate(e.FallsOffAt),
				Points: strconv.Itoa(e.Points)}
			if ev.Type == "" {
				ev.Type = e.Type
			}
			if e.RawPoints != e.Points {
				ev.Points = fmt.Sprintf("%d (of %d; daily cap)", e.Points, e.RawPoints)
			}
			lv.Entries = append(lv.Entries, ev)
		}
		for _, sk := range l.Strikes {
			lv.Strikes = append(lv.Strikes, strikeView{Number: sk.Number, Cases: sk.Cases, FirstAt: dayDate(sk.FirstAt), FallsOff: dayDate(sk.FallsOffAt)})
		}
		v.Ledgers = append(v.Ledgers, lv)
	}
	m := st.Performance
	v.Perf = perfView{Window: dayDate(m.From) + " to " + dayDate(m.To), Note: m.Note, Orders: m.Orders, Evaluated: m.Evaluated}
	for _, x := range m.All() {
		mv := metricView{Name: x.Name, Title: x.Title, Rate: percentWords(x.Rate), Standard: "below " + percentWords(x.Threshold),
			CountOf: fmt.Sprintf("%d of %d %s", x.Count, x.Of, x.OfWhat), Breached: x.Breached}
		mv.Chart = metricChart(x, st.Chart)
		v.Perf.Metrics = append(v.Perf.Metrics, mv)
	}
	for _, w := range st.PerformanceWarnings {
		wv := perfWarningView{Metric: w.Metric, At: standing.FormatTime(w.At), GraceEnds: standing.FormatTime(w.GraceEndsAt), Message: w.Message, Open: w.ClearedAt == nil}
		switch {
		case w.ClearedAt != nil:
			wv.State = "back within the standard on " + standing.FormatTime(*w.ClearedAt)
		case now.Before(w.GraceEndsAt):
			wv.State = "grace period until " + wv.GraceEnds
		default:
			wv.State = "grace period over: points while the metric stays above the standard"
		}
		v.Perf.Warnings = append(v.Perf.Warnings, wv)
	}
	for _, f := range st.Fines {
		v.Fines = append(v.Fines, fineView{ID: f.ID, Date: dayDate(f.CreatedAt), Amount: f.Words(), Reason: f.Reason})
	}
	for _, f := range st.Fees {
		fv := feeView{ID: f.ID, Description: f.Description, Amount: standing.Money{Currency: f.Currency, Amount: f.Amount}.String(), Due: standing.FormatTime(f.DueAt),
			GraceEnds: standing.FormatTime(f.GraceEndsAt), State: f.State}
		switch f.State {
		case penalty.FeePaid:
			fv.StateWords = "paid on " + standing.FormatTime(*f.PaidAt)
		case penalty.FeeOverdue:
			fv.StateWords, fv.Overdue = "overdue: selling is paused until it is paid", true
		default:
			if now.Before(f.DueAt) {
				fv.StateWords = "due on " + fv.Due
			} else {
				fv.StateWords = "unpaid: pay by " + fv.GraceEnds + " to keep selling"
			}
		}
		v.Fees = append(v.Fees, fv)
	}
	return v
}

// closureNotice is the kind of the sanction that stands for an announced closure.
const closureNotice = "closure_notice"

func hasKind(list []penalty.ActiveSanction, kind string) bool {
	for _, s := range list {
		if s.Kind == kind {
			return true
		}
	}
	return false
}

func hasPending(list []penalty.NoticeLine) bool {
	for _, n := range list {
		if n.State == penalty.NoticePending {
			return true
		}
	}
	return false
}

func hasOpen(list []penalty.PerfWarning) bool {
	for _, w := range list {
		if w.ClearedAt == nil {
			return true
		}
	}
	return false
}

func kindWords(kind string) string {
	switch kind {
	case penalty.KindSuspension:
		return "Store suspension"
	case penalty.KindListingLimit:
		return "Listing limit"
	case penalty.KindClosure:
		return "Store closure"
	case closureNotice:
		return "Closure announced"
	case "fee":
		return "Unpaid platform fee"
	}
	return kind
}

func noticeWords(kind string) string {
	switch kind {
	case penalty.NoticeClosure:
		return "Closure notice"
	case penalty.NoticeWarning:
		return "Warning"
	case penalty.NoticePerformance:
		return "Performance warning"
	case penalty.NoticeFeeOverdue:
		return "Unpaid fee"
	case penalty.NoticeFine:
		return "Fine"
	case penalty.NoticeClosureCancelled:
		return "Closure cancelled"
	}
	return kind
}

func lowerInitial(s string) string {
	if len(s) < 2 || s[0] < 'A' || s[0] > 'Z' || (s[1] >= 'A' && s[1] <= 'Z') {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// dateWords writes the day of t: "2 Mar 2027".
func dayDate(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

func lifetimeWords(d time.Duration) string {
	day := 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.Itoa(int(d/day)) + " days"
	}
	return d.String()
}

// percentWords writes a fraction as a percentage with as few decimals as it needs, at most
// two: 0.04 is "4 %", 0.025 "2.5 %", 0.0612 "6.12 %" (with a no-break space, so a table
// cell never wraps between the number and its sign).
func percentWords(f float64) string {
	return strconv.FormatFloat(math.Round(f*10000)/100, 'f', -1, 64) + "\u00a0%"
}

// The chart's frame, in SVG user units; the SVG scales to the page's width.
const (
	chartW, chartH        = 600, 150
	chartLeft, chartRight = 44, 590
	chartTop, chartBottom = 10, 124
	chartBarsShare        = 0.35 // of the plot's height, for the daily orders
	chartMinRange         = 0.01 // the y axis shows at least 0-1 %
)

// metricChart draws one metric over the window: bars of the orders placed each day, and the
// metric cumulated from the window's first day (so its last point is the metric itself),
// against a dashed line at the standard.
func metricChart(m penalty.Metric, days []penalty.DayPoint) chartView {
	c := chartView{ID: "chart-" + m.Name, Width: chartW, Height: chartH, PlotTop: chartTop, PlotBottom: chartBottom,
		PlotLeft: chartLeft, PlotRight: chartRight, Breached: m.Breached}
	if len(days) == 0 {
		return c
	}
	rate := func(d penalty.DayPoint) float64 {
		switch m.Name {
		case penalty.MetricOrderDefect:
			return d.OrderDefectRate
		case penalty.MetricLateShipment:
			return d.LateShipmentRate
		}
		return d.CancellationRate
	}
	top := max(2*m.Threshold, chartMinRange)
	maxOrders := 0
	for _, d := range days {
		top = max(top, rate(d))
		maxOrders = max(maxOrders, d.Orders)
	}
	top = axisCeil(top)
	plotH := float64(chartBottom - chartTop)
	step := float64(chartRight-chartLeft) / float64(len(days))
	y := func(r float64) float64 { return chartBottom - plotH*r/top }
	var pts []string
	for i, d := range days {
		x := float64(chartLeft) + step*(float64(i)+0.5)
		if d.Orders > 0 && maxOrders > 0 {
			h := plotH * chartBarsShare * float64(d.Orders) / float64(maxOrders)
			c.Bars = append(c.Bars, barView{X: svgNum(x - step*0.4), Y: svgNum(chartBottom - h), W: svgNum(step * 0.8), H: svgNum(h)})
		}
		pts = append(pts, svgNum(x)+","+svgNum(y(rate(d))))
		if i == len(days)-1 {
			c.LastX, c.LastY = svgNum(x), svgNum(y(rate(d)))
		}
	}
	c.Line = strings.Join(pts, " ")
	c.ThresholdY = svgNum(y(m.Threshold))
	c.ThresholdLabel = "standard: below " + percentWords(m.Threshold)
	c.MaxLabel = percentWords(top)
	c.FirstDay, c.LastDay = days[0].Date.Format("2 Jan"), days[len(days)-1].Date.Format("2 Jan")
	c.Label = fmt.Sprintf("%s from %s to %s, cumulated over the window: now %s against the standard of below %s.",
		m.Title, c.FirstDay, c.LastDay, percentWords(m.Rate), percentWords(m.Threshold))
	return c
}

// axisCeil rounds a rate up to 1, 2 or 5 times a power of ten, for the top of the axis.
func axisCeil(f float64) float64 {
	if f <= 0 {
		return chartMinRange
	}
	p := math.Pow(10, math.Floor(math.Log10(f)))
	for _, m := range []float64{1, 2, 5, 10} {
		if f <= m*p*1.0000001 {
			return m * p
		}
	}
	return 10 * p
}

func svgNum(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }
