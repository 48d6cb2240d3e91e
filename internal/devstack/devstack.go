// Package devstack runs the whole pipeline on one machine without an AWS
// account or Docker: moto as the AWS services (through a launcher that patches
// known moto bugs), an in-process host that serves every Lambda handler
// behind the Lambda Invoke API so moto's Step Functions interpreter calls the
// real Go code, the HTTP API, a dev mailbox, and demo data.
package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/logging"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/app/full"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/idempotency"
	"github.com/privacy-pipeline/dsr/internal/ratelimit"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// Options configure a local stack. Zero ports pick free ones.
type Options struct {
	MotoPort   int
	LambdaPort int
	APIPort    int
	Region     string
	// TimeScale divides every workflow wait (86400: a statutory day per second).
	TimeScale float64
	// VerificationPeriod is how long a request waits for the subject to
	// confirm, in statutory time (scaled by TimeScale for the workflow wait).
	VerificationPeriod time.Duration
	// ReviewTypes are the request types an operator approves before delivery.
	ReviewTypes []request.Type
	// PolicyFile is the company's policy on top of the law; empty is the
	// law alone.
	PolicyFile string
	// OperatorEmail receives reviews and escalations.
	OperatorEmail string
	// MailFrom is the sender address of the system's mail.
	MailFrom string
	// Logs receives the JSON logs of the handlers and moto's output.
	Logs io.Writer
	// ClientLimit and IdentityLimit replace the API's default rate limits.
	ClientLimit, IdentityLimit *ratelimit.Rule
	// SweepEvery runs the sweeper (requests stored without a workflow) this
	// often, as the cloud's schedule does; zero leaves it to be run by hand
	// (App.Sweep, or the sweeper function through the Lambda host), so
	// tests decide when it runs.
	SweepEvery time.Duration
	// SweepMinAge is how long a request stays received before the sweeper
	// starts it (zero: sweeper.DefaultMinAge), for runs that last minutes.
	SweepMinAge time.Duration
	// LargeSourceMinObjects makes an S3 source with more objects large
	// (worked object by object); zero keeps workflow.DefaultLargeMinObjects.
	LargeSourceMinObjects int
	// IdempotencyLease is how long a submission holds its Idempotency-Key
	// before a retry may take it over (zero: idempotency.DefaultLease).
	IdempotencyLease time.Duration
	// Faults, when set, makes the pipeline's AWS calls and Lambda
	// invocations fail now and then (see Faults).
	Faults *Faults
	// Remote functions run outside this process, by function name
	// (functions/<name>): moto's Step Functions calls them in place of the
	// in-process handlers. make smoke-binaries runs the deployed binaries
	// so.
	Remote map[string]Invoker
}

// DefaultTimeScale makes a statutory day last about a second.
const DefaultTimeScale = 86400

// Stack is a running local stack.
type Stack struct {
	MotoURL   string
	LambdaURL string
	APIURL    string
	Region    string
	AWS       aws.Config
	App       *app.App

	dir     string
	moto    *motoProcess
	servers []*http.Server
	// stopSweeps ends the periodic sweeper, if one runs, and returns once
	// it has.
	stopSweeps func()
	access     tableAccess
	// Hooks are the demo company's webhook endpoints.
	Hooks *Hooks
}

// Start brings the stack up and returns once everything is provisioned and
// /healthz answers 200.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.TimeScale == 0 {
		o.TimeScale = DefaultTimeScale
	}
	if o.VerificationPeriod == 0 {
		o.VerificationPeriod = app.DefaultVerificationPeriod
	}
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	s := &Stack{Region: o.Region}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "dsr-devstack-"); err != nil {
		return nil, err
	}
	listeners := make([]net.Listener, 3)
	for i, port := range []int{o.MotoPort, o.LambdaPort, o.APIPort} {
		if listeners[i], err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
			return nil, fmt.Errorf("port %d: %w", port, err)
		}
	}
	// moto binds its own port: free ours just before it starts.
	motoPort := listeners[0].Addr().(*net.TCPAddr).Port
	lambdaPort := listeners[1].Addr().(*net.TCPAddr).Port
	listeners[0].Close()
	if s.moto, err = startMoto(ctx, s.dir, motoPort, lambdaPort, o.Logs); err != nil {
		listeners[1].Close()
		listeners[2].Close()
		return nil, err
	}
	s.MotoURL = s.moto.url
	s.LambdaURL = fmt.Sprintf("http://127.0.0.1:%d", lambdaPort)
	s.APIURL = "http://" + listeners[2].Addr().String()
	if err = s.moto.configure(); err != nil {
		listeners[1].Close()
		listeners[2].Close()
		return nil, err
	}

	if s.AWS, err = LocalAWS(ctx, o.Region, s.MotoURL); err != nil {
		return nil, err
	}
	// The SDK's own warnings (a response cut short, say) are the stack's
	// to log, beside the handlers'.
	s.AWS.Logger = logging.NewStandardLogger(o.Logs)
	s.AWS.APIOptions = append(s.AWS.APIOptions, s.access.record)
	if o.Faults != nil {
		s.AWS.HTTPClient = o.Faults.HTTPClient(s.AWS.HTTPClient)
	}
	log := app.NewLogger(o.Logs)
	registryFile := filepath.Join(s.dir, "sources.yaml")
	localReg := LocalRegistry(s.APIURL)
	if err = os.WriteFile(registryFile, localReg, 0o600); err != nil {
		return nil, err
	}
	reg, err := registry.Parse(localReg)
	if err != nil {
		return nil, err
	}
	s.Hooks = newHooks(reg, log)
	cfg := LocalConfig(o.Region, s.APIURL)
	if o.MailFrom != "" {
		cfg.MailFrom = o.MailFrom
	}
	if o.OperatorEmail != "" {
		cfg.OperatorEmail = o.OperatorEmail
	}
	cfg.ReviewTypes, cfg.MetricsOut = o.ReviewTypes, o.Logs
	if o.ClientLimit != nil {
		cfg.ClientLimit = *o.ClientLimit
	}
	if o.IdentityLimit != nil {
		cfg.IdentityLimit = *o.IdentityLimit
	}
	cfg.RegistryFile, cfg.TimeScale, cfg.PolicyFile = registryFile, clock.Scale(o.TimeScale), o.PolicyFile
	cfg.SweepMinAge, cfg.IdempotencyLease = o.SweepMinAge, o.IdempotencyLease
	if o.LargeSourceMinObjects > 0 {
		cfg.LargeSourceMinObjects = o.LargeSourceMinObjects
	}
	cfg.VerificationPeriod, cfg.VerifyLinkTTL = o.VerificationPeriod, o.VerificationPeriod
	if s.App, err = full.New(cfg, s.AWS, log); err != nil {
		return nil, err
	}

	handlers := map[string]any{}
	for name, h := range s.App.Handlers() {
		handlers[namePrefix+name] = h
	}
	remote := map[string]Invoker{}
	for name, fn := range o.Remote {
		remote[namePrefix+name] = fn
	}
	host, err := newLambdaHost(s.MotoURL, handlers, remote)
	if err != nil {
		return nil, err
	}
	host.faults = o.Faults
	s.serve(listeners[1], host)

	var ready atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_dev/mail", func(w http.ResponseWriter, r *http.Request) {
		mails, err := readMailbox(s.MotoURL)
		if err != nil {
			http.Error(w, "mailbox unavailable", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(mails)
	})
	mux.Handle("GET /_dev/webhooks", s.Hooks)
	mux.Handle("POST "+HooksPath, s.Hooks)
	mux.HandleFunc("POST /_dev/inbound", func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		s.receiveMail(w, r)
	})
	api := s.App.API()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		r = r.WithContext(withFunction(r.Context(), "api"))
		if o.Faults != nil {
			o.Faults.ServeAPI(w, r, api)
			return
		}
		api.ServeHTTP(w, r)
	}))
	s.serve(listeners[2], mux)

	c := clients{
		ddb: dynamodb.NewFromConfig(s.AWS),
		s3:  s3.NewFromConfig(s.AWS, func(o *s3.Options) { o.UsePathStyle = true }),
		ses: sesv2.NewFromConfig(s.AWS),
		sfn: sfn.NewFromConfig(s.AWS),
		kms: kms.NewFromConfig(s.AWS),
		sqs: sqs.NewFromConfig(s.AWS),
	}
	if err = provision(ctx, c, o.Region, cfg.MailFrom); err != nil {
		return nil, fmt.Errorf("provisioning: %w", err)
	}
	if err = s.Hooks.putSecrets(ctx, ssm.NewFromConfig(s.AWS), secretsmanager.NewFromConfig(s.AWS)); err != nil {
		return nil, fmt.Errorf("provisioning: %w", err)
	}
	if err = seedDemo(ctx, c.ddb, c.s3, o.Region); err != nil {
		return nil, fmt.Errorf("demo data: %w", err)
	}
	ready.Store(true)
	if o.SweepEvery > 0 {
		s.sweepEvery(o.SweepEvery, log)
	}
	return s, nil
}

// sweepEvery runs the sweeper every d until the stack closes.
func (s *Stack) sweepEvery(d time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.stopSweeps = func() {
		cancel()
		<-done
	}
	sweep := s.App.Sweep()
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// The handler logs what it did; a failure waits for the next tick.
				if _, err := sweep(withFunction(ctx, "sweeper")); err != nil {
					log.Warn("sweep failed; the next one tries again")
				}
			}
		}
	}()
}

// Local endpoints of a stack started with the default ports.
const (
	DefaultMotoURL = "http://127.0.0.1:4566"
	DefaultAPIURL  = "http://127.0.0.1:8080"
)

// LocalAWS is the AWS configuration of a local stack: its endpoint, a region
// and dummy credentials.
func LocalAWS(ctx context.Context, region, endpoint string) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithBaseEndpoint(endpoint),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		// moto sends no response checksums; validating only where required
		// keeps the SDK from warning about it on every read.
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	)
}

// LocalConfig names the pipeline's resources as a local stack creates them.
func LocalConfig(region, apiURL string) app.Config {
	return app.Config{
		RequestsTable:         tableName(resources.Requests),
		AuditTable:            tableName(resources.Audit),
		ReceiptsTable:         tableName(resources.Receipts),
		IntakeTable:           tableName(resources.Intake),
		SuppressionsTable:     tableName(resources.Suppressions),
		ExportsBucket:         bucketName(resources.Exports),
		RawMailBucket:         bucketName(resources.RawMail),
		ReceiptAnchorsBucket:  bucketName(resources.ReceiptAnchors),
		OperatorQueueURL:      QueueURL(region, resources.OperatorInbox),
		InboxAddress:          "privacy@example.com",
		InboundJurisdiction:   app.DefaultInboundJurisdiction,
		StateMachineARN:       StateMachineARN(region, resources.RequestWorkflow),
		WatchStateMachineARN:  StateMachineARN(region, resources.DeadlineWatch),
		MailFrom:              "privacy@example.com",
		OperatorEmail:         "privacy-team@example.com",
		BaseURL:               apiURL,
		ReceiptKeyID:          resources.ReceiptKey.Alias,
		TimeScale:             DefaultTimeScale,
		S3PathStyle:           true,
		LargeSourceMinObjects: workflow.DefaultLargeMinObjects,
		VerificationPeriod:    app.DefaultVerificationPeriod,
		VerifyLinkTTL:         app.DefaultVerificationPeriod,
		DownloadTTL:           app.DefaultDownloadTTL,
		PresignTTL:            app.DefaultPresignTTL,
		ClientLimit:           app.DefaultClientLimit,
		IdentityLimit:         app.DefaultIdentityLimit,
		IdempotencyTTL:        idempotency.DefaultTTL,
	}
}

func (s *Stack) serve(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("local server stopped", "addr", l.Addr().String(), "error", err.Error())
		}
	}()
}

// Mail returns what the system has sent, oldest first.
func (s *Stack) Mail() ([]Mail, error) { return readMailbox(s.MotoURL) }

// Close stops every process and server the stack started.
func (s *Stack) Close() {
	if s.stopSweeps != nil {
		s.stopSweeps()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
	if s.moto != nil {
		s.moto.stop()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}
