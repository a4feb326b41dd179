package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"standing"
	"standing/auth"
	"standing/httpapi"
	"standing/jobs"
	"standing/mail"
	"standing/rules"
	"standing/sqlstore"
)

// wireIdentity wires sign-up, confirmation, sessions, password reset, the pages and mail.
func (a *App) wireIdentity() ([]httpapi.Route, error) {
	secret, err := a.serverSecret() // identity hashes must match the deny list's (appeals.go)
	if err != nil {
		return nil, err
	}
	a.identity = rules.NewIdentityHasher(secret)
	standingOf := func(ctx context.Context, id string) (*standing.Standing, error) { return a.Checker.Standing(ctx, id) }
	a.Auth = auth.New(a.Store, standingOf, a.identity.Account, a.Clock, a.Policy, a.Config.BaseURL)
	a.Runner.Handle(sqlstore.JobVerifyDeadline, a.Auth.HandleVerifyDeadline)
	if a.Config.SMTPURL != "" {
		tls, err := mail.ParseTLSPolicy(a.Config.SMTPTLS)
		if err != nil {
			return nil, flagError("--smtp-tls", err)
		}
		sender, err := mail.NewSMTPSender(mail.Config{URL: a.Config.SMTPURL, TLS: tls, From: a.Config.MailFrom, Clock: a.Clock,
			RootCAs: a.mailRoots, InsecureSkipVerify: false})
		if f := standing.ErrorField(err); f == "smtp_url" || f == "smtp_tls" || f == "mail_from" {
			return nil, flagError("--"+strings.ReplaceAll(f, "_", "-"), err)
		} else if err != nil {
			return nil, fmt.Errorf("mail: %s", standing.ErrorMessage(err))
		}
		a.Runner.Handle(sqlstore.JobSendMail, a.sendMail(sender))
	}
	return httpapi.IdentityRoutes(httpapi.IdentityDeps{Auth: a.Auth, Checker: a.Checker, Clock: a.Clock, Policy: a.Policy}), nil
}

// sendMail is the job that hands one queued mail to the SMTP server. A refusal for good
// (a 5xx to the recipient or the data) marks the mail failed; anything else is retried
// with backoff, and the mail stays queued until it is delivered.
func (a *App) sendMail(sender mail.Sender) jobs.Handler {
	return func(ctx context.Context, j jobs.Job) error {
		var p struct {
			MailID string `json:"mail_id"`
		}
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.MailID == "" {
			return jobs.Permanent{Err: fmt.Errorf("mail.send: bad payload %s", j.Payload)}
		}
		m, err := a.Store.Mail(ctx, p.MailID)
		if standing.ErrorCode(err) == standing.ENOTFOUND {
			return nil // erased with its account
		} else if err != nil {
			return err
		}
		if m.State != standing.MailQueued {
			return nil
		}
		sendCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		sendErr := sender.Send(sendCtx, mail.Message{ID: m.ID, To: m.To, Subject: m.Subject, Text: m.Text})
		permanent := sendErr != nil && mail.IsPermanent(sendErr)
		if err := a.Store.MailDelivered(ctx, m.ID, sendErr, permanent); err != nil {
			return err
		}
		if permanent {
			return jobs.Permanent{Err: sendErr}
		}
		return sendErr
	}
}
