package standing

// WebhookSellerFined tells the marketplace to collect a fine recorded against a seller:
// data holds account_id, fine_id, amount (minor units), currency and, when set,
// violation_id and case_id (the reason is read with GET /v1/sellers/{id}/standing).
const WebhookSellerFined = "seller.fined"

func init() { WebhookEventTypes = append(WebhookEventTypes, WebhookSellerFined) }

// Audit actions of seller penalties. Sanctions that restrict the store are audited as
// restriction.added like every restriction; these record what led to them.
const (
	AuditViolationRecorded  = "seller.violation_recorded"
	AuditViolationWithdrawn = "seller.violation_withdrawn"
	AuditSellerFined        = "seller.fined"
	AuditSellerFee          = "seller.fee_recorded"
	AuditSellerFeePaid      = "seller.fee_paid"
	AuditSellerNotice       = "seller.notice"
)
