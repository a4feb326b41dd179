package standing

import "time"

// AppealStatus is where an appeal is in its review.
//
//	stateDiagram-v2
//	    [*] --> submitted
//	    submitted --> in_review: a reviewer claims it
//	    in_review --> needs_info: the reviewer asks for more
//	    needs_info --> submitted: the person adds documents or a message
//	    in_review --> upheld
//	    in_review --> overturned
//	    submitted --> upheld
//	    submitted --> overturned
//	    upheld --> [*]
//	    overturned --> [*]
type AppealStatus string

// The appeal statuses.
const (
	AppealSubmitted  AppealStatus = "submitted"
	AppealInReview   AppealStatus = "in_review"
	AppealNeedsInfo  AppealStatus = "needs_info"
	AppealUpheld     AppealStatus = "upheld"
	AppealOverturned AppealStatus = "overturned"
)

// Valid reports whether s is a known status.
func (s AppealStatus) Valid() bool {
	switch s {
	case AppealSubmitted, AppealInReview, AppealNeedsInfo, AppealUpheld, AppealOverturned:
		return true
	}
	return false
}

// Open reports whether the appeal still waits for a decision.
func (s AppealStatus) Open() bool {
	return s == AppealSubmitted || s == AppealInReview || s == AppealNeedsInfo
}

// Transition checks the move from s to next.
func (s AppealStatus) Transition(next AppealStatus) error {
	ok := false
	switch s {
	case AppealSubmitted:
		ok = next == AppealInReview || next == AppealNeedsInfo || next == AppealUpheld || next == AppealOverturned
	case AppealInReview:
		ok = next == AppealNeedsInfo || next == AppealUpheld || next == AppealOverturned || next == AppealSubmitted
	case AppealNeedsInfo:
		ok = next == AppealSubmitted || next == AppealUpheld || next == AppealOverturned
	}
	if !ok {
		return Errorf(ECONFLICT, "an appeal cannot go from %s to %s", s, next)
	}
	return nil
}

// Appeal contests a restriction or an order closed by risk. A person always decides it
// (DSA Art. 20(6)).
type Appeal struct {
	ID            string          `json:"id"`
	AccountID     string          `json:"account_id"`
	RestrictionID string          `json:"restriction_id,omitempty"`
	OrderID       string          `json:"order_id,omitempty"`
	ReasonCode    string          `json:"reason_code"`
	Statement     string          `json:"statement"`
	Status        AppealStatus    `json:"status"`
	Urgent        bool            `json:"urgent"`
	UrgentReason  string          `json:"urgent_reason,omitempty"`
	Priority      int             `json:"priority"`
	SubmittedAt   time.Time       `json:"submitted_at"`
	DueAt         time.Time       `json:"due_at"`    // the answer promised to the person
	BreachAt      time.Time       `json:"breach_at"` // after this the review is late
	EscalatedAt   *time.Time      `json:"escalated_at,omitempty"`
	BreachedAt    *time.Time      `json:"breached_at,omitempty"`
	AssignedTo    string          `json:"assigned_to,omitempty"`
	DecidedAt     *time.Time      `json:"decided_at,omitempty"`
	DecidedBy     string          `json:"decided_by,omitempty"`
	DecisionNote  string          `json:"decision_note,omitempty"`
	UpdatedAt     time.Time       `json:"updated_at"`
	Evidence      []Evidence      `json:"evidence,omitempty"`
	Messages      []AppealMessage `json:"messages,omitempty"`
}

// Evidence is one document of an appeal. The file lives in the blob store under Key.
type Evidence struct {
	ID          string    `json:"id"`
	AppealID    string    `json:"appeal_id,omitempty"`
	AccountID   string    `json:"-"`
	Slot        string    `json:"slot"` // which requested document (card_photo, …) or "other"
	Filename    string    `json:"filename"`
	Kind        string    `json:"kind"` // photo | pdf | video
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Key         string    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
}

// AppealMessage is one message of the thread between the person and the reviewers.
type AppealMessage struct {
	ID        string    `json:"id"`
	AppealID  string    `json:"-"`
	Author    string    `json:"author"` // "person" or the reviewer's name
	FromStaff bool      `json:"from_staff"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// StaffRole is the role of a trust & safety person in the console.
type StaffRole string

// The staff roles: reviewers decide appeals; admins also manage staff and override.
const (
	RoleReviewer StaffRole = "reviewer"
	RoleAdmin    StaffRole = "admin"
)

// Valid reports whether r is a known staff role.
func (r StaffRole) Valid() bool { return r == RoleReviewer || r == RoleAdmin }

// StaffUser is a reviewer or admin of the console.
type StaffUser struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      StaffRole `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	Disabled  bool      `json:"disabled"`
}

// Limits on appeal input.
const (
	MaxStatementLen = 5000
	MaxMessageLen   = 5000
	MaxEvidence     = 10
)

// NewAppeal is an appeal as the person submits it.
type NewAppeal struct {
	AccountID     string
	RestrictionID string
	OrderID       string
	Statement     string
	Urgent        bool
	UrgentReason  string
	EvidenceIDs   []string // staged evidence of the same account
}

// Decision outcomes a reviewer can give.
const (
	DecideOverturn = "overturned"
	DecideUphold   = "upheld"
	DecideAskInfo  = "needs_info"
)

// QueueFilter selects appeals for the console's queue.
type QueueFilter struct {
	Status     AppealStatus // empty: every open status
	ReasonCode string
	AssignedTo string
	Limit      int
}

// Appeal priorities: urgent appeals, and those near or past their breach time, rise.
const (
	PriorityUrgent    = 10
	PriorityEscalated = 20
	PriorityBreached  = 10
)
