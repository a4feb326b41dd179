// Package evidence inspects the files people attach to an appeal before anything stores
// them: it decides the type from the bytes (never from the name), enforces the size
// limits of standing.EvidencePolicy while reading no more than it must, strips metadata
// from photos (EXIF, GPS, XMP, comments) after turning them upright, and refuses
// documents that show a full payment card number.
//
// Every refusal is a *standing.Error whose message names the file and says what to do —
// the opposite of a "System is Busy" page. The accepted types are:
//
//	kind   types             limit (policy)   cleaning
//	photo  JPEG, PNG, WebP   PhotoMax (3 MB)  JPEG/PNG decoded and re-encoded upright;
//	                                          WebP rewritten without EXIF/XMP chunks
//	pdf    PDF               PDFMax (10 MB)   none (kept as uploaded)
//	video  MP4, MOV          VideoMax (50 MB) none (kept as uploaded)
//
// Card numbers are found in text read by external programs behind the TextExtractor
// interface; Tools, the default, runs pdftotext and pdftoppm (Debian package
// poppler-utils) and tesseract (Debian package tesseract-ocr).
package evidence
