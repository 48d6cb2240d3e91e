package chaos

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/privacy-pipeline/dsr/internal/devstack"
)

// mailbox reads the dev mailbox for every subject at once: one reader
// polls, the drivers wait on what it saw.
type mailbox struct {
	read func() ([]devstack.Mail, error)

	mu      sync.Mutex
	mails   []devstack.Mail
	changed chan struct{} // closed and replaced when mails change
}

func newMailbox(read func() ([]devstack.Mail, error)) *mailbox {
	return &mailbox{read: read, changed: make(chan struct{})}
}

// poll reads the mailbox every interval until ctx ends.
func (m *mailbox) poll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if mails, err := m.read(); err == nil {
			m.mu.Lock()
			if len(mails) != len(m.mails) {
				m.mails = mails
				close(m.changed)
				m.changed = make(chan struct{})
			}
			m.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

var linkPattern = regexp.MustCompile(`https?://\S+`)

// verifyTokens returns the verification tokens mailed for a request, oldest
// first: a verification step that ran again mailed a fresh link.
func (m *mailbox) verifyTokens(requestID string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var tokens []string
	for _, mail := range m.mails {
		if !strings.Contains(mail.Subject, requestID) || !strings.Contains(mail.Subject, "Confirm your privacy request") {
			continue
		}
		for _, l := range linkPattern.FindAllString(mail.Text, -1) {
			u, err := url.Parse(l)
			if err == nil && strings.HasSuffix(u.Path, "/"+requestID+"/verify") && u.Query().Get("token") != "" {
				tokens = append(tokens, u.Query().Get("token"))
				break
			}
		}
	}
	return tokens
}

// wait returns when the mailbox changes, after d, or when ctx ends.
func (m *mailbox) wait(ctx context.Context, d time.Duration) {
	m.mu.Lock()
	ch := m.changed
	m.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}
