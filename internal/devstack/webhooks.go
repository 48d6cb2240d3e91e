package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/secret"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// DemoHooksURL is where the demo registry's webhook endpoints live; the
// local stack serves them itself, under HooksPath, and writes its own
// address into the registry it runs with.
const (
	DemoHooksURL = "https://hooks.demo.example/"
	HooksPath    = "/_dev/hooks/"
)

// LocalRegistry is the demo registry with its webhook endpoints served by
// a local stack whose API is at apiURL.
func LocalRegistry(apiURL string) []byte {
	return bytes.ReplaceAll(demoRegistry, []byte(DemoHooksURL), []byte(apiURL+HooksPath))
}

// HookCall is one call a demo endpoint received, as GET /_dev/webhooks
// lists it: ids, kinds and what was answered, never an identity's value.
type HookCall struct {
	Endpoint      string    `json:"endpoint"`
	At            time.Time `json:"at"`
	Kind          string    `json:"kind,omitempty"`
	RequestID     string    `json:"request_id,omitempty"`
	Type          string    `json:"type,omitempty"`
	IdentityKinds []string  `json:"identity_kinds,omitempty"`
	// Signed says whether the call's signature checked out.
	Signed bool `json:"signed"`
	// Answer is the status code and what it said.
	Answer string `json:"answer"`
}

// Hooks are the demo company's own endpoints: the help desk behind the
// chat webhook source, and the recipients told of requests. Each checks
// the signature of every call with the secret the stack put in SSM or
// Secrets Manager, as a real endpoint would, and logs what it received.
type Hooks struct {
	secrets  map[string][]byte // by the registry's reference
	reg      *registry.Registry
	http     *http.Client
	log      *slog.Logger
	mu       sync.Mutex
	calls    []HookCall
	failing  map[string]bool
	handlers map[string]func(h *Hooks, name string, body []byte) (int, any)
	chat     *demoChat
}

// newHooks makes a secret for every reference in reg.
func newHooks(reg *registry.Registry, log *slog.Logger) *Hooks {
	h := &Hooks{secrets: map[string][]byte{}, reg: reg, http: &http.Client{Timeout: 10 * time.Second}, log: log, failing: map[string]bool{},
		handlers: map[string]func(*Hooks, string, []byte) (int, any){}, chat: newDemoChat()}
	for _, ref := range append(reg.SourceSecrets(), reg.NotifiedSecrets()...) {
		h.secrets[ref] = []byte(secret.NewToken())
	}
	h.handlers["chat"] = (*Hooks).serveChat
	h.handlers["adco"] = (*Hooks).serveRecipient
	return h
}

// putSecrets stores the secrets where the registry says they are kept.
func (h *Hooks) putSecrets(ctx context.Context, sm *ssm.Client, smgr *secretsmanager.Client) error {
	for ref, v := range h.secrets {
		var err error
		switch {
		case strings.HasPrefix(ref, webhook.SSMPrefix):
			_, err = sm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(strings.TrimPrefix(ref, webhook.SSMPrefix)),
				Type: ssmtypes.ParameterTypeSecureString, Value: aws.String(string(v)), Overwrite: aws.Bool(true)})
		case strings.HasPrefix(ref, webhook.SecretsManagerPrefix):
			_, err = smgr.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(strings.TrimPrefix(ref, webhook.SecretsManagerPrefix)), SecretString: aws.String(string(v))})
		}
		if err != nil {
			return fmt.Errorf("webhook secret %s: %w", ref, err)
		}
	}
	return nil
}

// SetFailing makes the named demo endpoint answer 503 to every call (true)
// or serve again (false), as an endpoint that is down.
func (h *Hooks) SetFailing(name string, failing bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing[name] = failing
}

// Calls returns what the demo endpoints received, oldest first.
func (h *Hooks) Calls() []HookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// endpointSecret is the secret of the registry entry whose URL ends in name.
func (h *Hooks) endpointSecret(name string) []byte {
	suffix := HooksPath + name
	for _, s := range h.reg.Sources {
		if s.Webhook != nil && strings.HasSuffix(s.Webhook.URL, suffix) {
			return h.secrets[s.Webhook.Secret]
		}
	}
	for _, n := range h.reg.Notify {
		if n.Webhook != nil && strings.HasSuffix(n.Webhook.URL, suffix) {
			return h.secrets[n.Webhook.Secret]
		}
	}
	return nil
}

// ServeHTTP serves POST /_dev/hooks/{name} and GET /_dev/webhooks.
func (h *Hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/_dev/webhooks" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(h.Calls())
		return
	}
	name := strings.TrimPrefix(r.URL.Path, HooksPath)
	serve, known := h.handlers[name]
	key := h.endpointSecret(name)
	if r.Method != http.MethodPost || !known || key == nil {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	call := HookCall{Endpoint: name, At: time.Now().UTC()}
	var head struct {
		Kind       string              `json:"kind"`
		RequestID  string              `json:"request_id"`
		Type       string              `json:"type"`
		Identities map[string][]string `json:"identities"`
	}
	_ = json.Unmarshal(body, &head)
	call.Kind, call.RequestID, call.Type = head.Kind, head.RequestID, head.Type
	for kind := range head.Identities {
		call.IdentityKinds = append(call.IdentityKinds, kind)
	}
	slices.Sort(call.IdentityKinds)
	status, answer := http.StatusServiceUnavailable, any(map[string]string{"error": "down on purpose"})
	h.mu.Lock()
	failing := h.failing[name]
	h.mu.Unlock()
	switch err := webhook.Verify(key, r.Header.Get(webhook.SignatureHeader), body, time.Now()); {
	case err != nil:
		status, answer = http.StatusUnauthorized, map[string]string{"error": err.Error()}
	case failing:
		call.Signed = true
	default:
		call.Signed = true
		status, answer = serve(h, name, body)
	}
	out, _ := json.Marshal(answer)
	call.Answer = fmt.Sprintf("%d %s", status, describe(answer))
	h.mu.Lock()
	h.calls = append(h.calls, call)
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(webhook.SignatureHeader, webhook.Sign(key, time.Now(), out))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// describe says in a word what an answer was.
func describe(answer any) string {
	switch a := answer.(type) {
	case webhook.SourceAnswer:
		return a.Status
	case webhook.RecipientAck:
		return a.Status
	case map[string]string:
		return a["error"]
	}
	return ""
}

// callBack sends answer, signed with the secret of the named endpoint, to
// the callback URL a call gave, as a real service would some time later:
// an answer lost (no connection, 5xx) is sent again with backoff, freshly
// signed; a 2xx or 4xx ends it.
func (h *Hooks) callBack(name, url string, answer any) {
	body, _ := json.Marshal(answer)
	wait := CallbackDelay
	for attempt := 1; attempt <= callbackAttempts; attempt++ {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			h.log.Error("demo callback", "endpoint", name, "error", err.Error())
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(h.endpointSecret(name), time.Now(), body))
		status := 0
		if resp, err := h.http.Do(req); err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		h.mu.Lock()
		h.calls = append(h.calls, HookCall{Endpoint: name, At: time.Now().UTC(), Kind: "callback", Signed: true, Answer: fmt.Sprintf("%d from the pipeline", status)})
		h.mu.Unlock()
		if status != 0 && status < 500 {
			return
		}
		time.Sleep(wait)
		wait = min(wait*2, maxCallbackWait)
	}
}

// A demo service sends a callback up to callbackAttempts times, waiting
// at most maxCallbackWait between two, as a real service keeps trying for
// a while (the deadline watch hands a task never answered to its owner).
const (
	callbackAttempts = 30
	maxCallbackWait  = 2 * time.Second
)
