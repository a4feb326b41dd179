package dsa

import "standing"

// The values of the Transparency Database schema (v2) that Standing uses or checks. The
// lists are the allowed values of the API documentation; Validate refuses anything else.

// Account decisions (decision_account).
const (
	DecisionAccountSuspended  = "DECISION_ACCOUNT_SUSPENDED"
	DecisionAccountTerminated = "DECISION_ACCOUNT_TERMINATED"
)

// Monetary decisions (decision_monetary).
const (
	DecisionMonetarySuspension  = "DECISION_MONETARY_SUSPENSION"
	DecisionMonetaryTermination = "DECISION_MONETARY_TERMINATION"
	DecisionMonetaryOther       = "DECISION_MONETARY_OTHER"
)

// Decisions on the provision of the service (decision_provision).
const (
	DecisionProvisionPartialSuspension  = "DECISION_PROVISION_PARTIAL_SUSPENSION"
	DecisionProvisionTotalSuspension    = "DECISION_PROVISION_TOTAL_SUSPENSION"
	DecisionProvisionPartialTermination = "DECISION_PROVISION_PARTIAL_TERMINATION"
	DecisionProvisionTotalTermination   = "DECISION_PROVISION_TOTAL_TERMINATION"
)

// Visibility decisions (decision_visibility). Standing restricts accounts, not content, so
// it never makes them, but Validate checks them.
const (
	DecisionVisibilityContentRemoved               = "DECISION_VISIBILITY_CONTENT_REMOVED"
	DecisionVisibilityContentDisabled              = "DECISION_VISIBILITY_CONTENT_DISABLED"
	DecisionVisibilityContentDemoted               = "DECISION_VISIBILITY_CONTENT_DEMOTED"
	DecisionVisibilityContentAgeRestricted         = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"
	DecisionVisibilityContentInteractionRestricted = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"
	DecisionVisibilityContentLabelled              = "DECISION_VISIBILITY_CONTENT_LABELLED"
	DecisionVisibilityOther                        = "DECISION_VISIBILITY_OTHER"
)

// Account types (account_type).
const (
	AccountTypeBusiness = "ACCOUNT_TYPE_BUSINESS"
	AccountTypePrivate  = "ACCOUNT_TYPE_PRIVATE"
)

// Decision grounds (decision_ground).
const (
	DecisionGroundIllegalContent      = "DECISION_GROUND_ILLEGAL_CONTENT"
	DecisionGroundIncompatibleContent = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
)

// Yes and No, as automated_detection and incompatible_content_illegal write them.
const (
	Yes = "Yes"
	No  = "No"
)

// Content types (content_type).
const (
	ContentTypeApp            = "CONTENT_TYPE_APP"
	ContentTypeAudio          = "CONTENT_TYPE_AUDIO"
	ContentTypeImage          = "CONTENT_TYPE_IMAGE"
	ContentTypeProduct        = "CONTENT_TYPE_PRODUCT"
	ContentTypeSyntheticMedia = "CONTENT_TYPE_SYNTHETIC_MEDIA"
	ContentTypeText           = "CONTENT_TYPE_TEXT"
	ContentTypeVideo          = "CONTENT_TYPE_VIDEO"
	ContentTypeOther          = "CONTENT_TYPE_OTHER"
)

// Statement categories Standing's default catalog uses (category); Categories lists all.
const (
	CategoryOtherViolationTC = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
	CategoryScamsAndFraud    = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
)

// Information sources (source_type).
const (
	SourceArticle16         = "SOURCE_ARTICLE_16"
	SourceTrustedFlagger    = "SOURCE_TRUSTED_FLAGGER"
	SourceOtherNotification = "SOURCE_TYPE_OTHER_NOTIFICATION"
	SourceVoluntary         = "SOURCE_VOLUNTARY"
)

// Automated decisions (automated_decision).
const (
	AutomatedDecisionFully        = "AUTOMATED_DECISION_FULLY"
	AutomatedDecisionPartially    = "AUTOMATED_DECISION_PARTIALLY"
	AutomatedDecisionNotAutomated = "AUTOMATED_DECISION_NOT_AUTOMATED"
)

// KeywordOther is the category_specification value that needs category_specification_other.
const KeywordOther = "KEYWORD_OTHER"

// Keywords Standing's mapping uses (category_specification).
const (
	KeywordInauthenticAccounts = "KEYWORD_INAUTHENTIC_ACCOUNTS"
)

var (
	decisionAccounts   = set(DecisionAccountSuspended, DecisionAccountTerminated)
	decisionMonetaries = set(DecisionMonetarySuspension, DecisionMonetaryTermination, DecisionMonetaryOther)
	decisionProvisions = set(DecisionProvisionPartialSuspension, DecisionProvisionTotalSuspension,
		DecisionProvisionPartialTermination, DecisionProvisionTotalTermination)
	decisionVisibilities = set(DecisionVisibilityContentRemoved, DecisionVisibilityContentDisabled,
		DecisionVisibilityContentDemoted, DecisionVisibilityContentAgeRestricted,
		DecisionVisibilityContentInteractionRestricted, DecisionVisibilityContentLabelled, DecisionVisibilityOther)
	accountTypes    = set(AccountTypeBusiness, AccountTypePrivate)
	decisionGrounds = set(DecisionGroundIllegalContent, DecisionGroundIncompatibleContent)
	yesNo           = set(Yes, No)
	contentTypes    = set(ContentTypeApp, ContentTypeAudio, ContentTypeImage, ContentTypeProduct,
		ContentTypeSyntheticMedia, ContentTypeText, ContentTypeVideo, ContentTypeOther)
	sourceTypes        = set(SourceArticle16, SourceTrustedFlagger, SourceOtherNotification, SourceVoluntary)
	automatedDecisions = set(AutomatedDecisionFully, AutomatedDecisionPartially, AutomatedDecisionNotAutomated)
	categories         = set(categoryList...)
	keywords           = set(keywordList...)
	territories        = set(EEACountries()...)
)

// categoryList is the catalog's vocabulary: a reason's DSACategory is checked against it
// when the policy loads.
var categoryList = standing.DSACategories()

var keywordList = []string{
	"KEYWORD_ANIMAL_HARM", "KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
	"KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_BIOMETRIC_DATA_BREACH",
	"KEYWORD_BULLYING_AGAINST_GIRLS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
	"KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE", "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
	"KEYWORD_COORDINATED_HARM", "KEYWORD_COPYRIGHT_INFRINGEMENT", "KEYWORD_CYBER_BULLYING_INTIMIDATION",
	"KEYWORD_CYBER_HARASSMENT", "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN", "KEYWORD_CYBER_INCITEMENT",
	"KEYWORD_CYBER_STALKING", "KEYWORD_CYBER_STALKING_AGAINST_WOMEN", "KEYWORD_DATA_FALSIFICATION",
	"KEYWORD_DEFAMATION", "KEYWORD_DESIGN_INFRINGEMENT", "KEYWORD_DISCRIMINATION",
	"KEYWORD_MISINFORMATION_DISINFORMATION", "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
	"KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT", "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
	"KEYWORD_GOODS_SERVICES_NOT_PERMITTED", "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
	"KEYWORD_HATE_SPEECH", "KEYWORD_HIDDEN_ADVERTISEMENT", "KEYWORD_HUMAN_EXPLOITATION",
	"KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_ILLEGAL_ORGANIZATIONS",
	"KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", KeywordInauthenticAccounts,
	"KEYWORD_INAUTHENTIC_LISTINGS", "KEYWORD_INAUTHENTIC_USER_REVIEWS",
	"KEYWORD_INCITEMENT_AGAINST_WOMEN", "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
	"KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS", "KEYWORD_LANGUAGE_REQUIREMENTS",
	"KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS", "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
	"KEYWORD_MISSING_PROCESSING_GROUND", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
	"KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
	"KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN", "KEYWORD_NONCOMPLIANCE_PRICING",
	"KEYWORD_NUDITY", "KEYWORD_PATENT_INFRINGEMENT", "KEYWORD_PHISHING", "KEYWORD_PROHIBITED_PRODUCTS",
	"KEYWORD_PYRAMID_SCHEMES", "KEYWORD_RIGHT_TO_BE_FORGOTTEN", "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
	"KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_SELF_MUTILATION", "KEYWORD_STALKING", "KEYWORD_SUICIDE",
	"KEYWORD_TERRORIST_CONTENT", "KEYWORD_TRADE_SECRET_INFRINGEMENT", "KEYWORD_TRADEMARK_INFRINGEMENT",
	"KEYWORD_TRAFFICKING_WOMEN_GIRLS", "KEYWORD_UNLAWFUL_SALE_ANIMALS", "KEYWORD_UNSAFE_CHALLENGES",
	"KEYWORD_UNSAFE_PRODUCTS", "KEYWORD_VIOLATION_EU_LAW", "KEYWORD_VIOLATION_NATIONAL_LAW",
	KeywordOther,
}

// euCountries are the ISO codes of the 27 EU member states as the Transparency Database
// writes them (Greece is GR).
var euCountries = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
	"IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}

// EEACountries are the EU member states plus Iceland, Liechtenstein and Norway: the default
// territorial scope of a statement.
func EEACountries() []string { return append(EUCountries(), "IS", "LI", "NO") }

// EUCountries returns the codes of the 27 EU member states (Greece is GR).
func EUCountries() []string { return append([]string(nil), euCountries...) }

// Categories lists every allowed statement category.
func Categories() []string { return append([]string(nil), categoryList...) }

// ValidCategory reports whether c is an allowed statement category
// (standing.ValidDSACategory).
func ValidCategory(c string) bool { return categories[c] }

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}
