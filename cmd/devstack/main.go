// Command devstack runs the whole pipeline locally (see internal/devstack):
// moto on :4566, the Lambda host on :4567 and the HTTP API on :8080, with
// demo data. Ctrl-C stops everything it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/ratelimit"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run() error {
	o := devstack.Options{Region: envOr("AWS_REGION", "us-east-1")}
	flag.IntVar(&o.MotoPort, "moto-port", 4566, "port of the local AWS services (moto)")
	flag.IntVar(&o.LambdaPort, "lambda-port", 4567, "port of the in-process Lambda host")
	flag.IntVar(&o.APIPort, "port", envInt("PORT", 8080), "port of the HTTP API (env PORT)")
	flag.Float64Var(&o.TimeScale, "time-scale", envFloat("TIME_SCALE", devstack.DefaultTimeScale), "divide every workflow wait by this (env TIME_SCALE; 86400: a day per second)")
	flag.DurationVar(&o.SweepEvery, "sweep-every", time.Minute, "run the sweeper (requests stored without a workflow) this often; 0: never")
	flag.StringVar(&o.PolicyFile, "policy", os.Getenv("POLICY"), "the company's policy file on top of the law (env POLICY); none: the law alone")
	logFile := flag.String("log", ".devstack.log", "file for handler and moto logs")
	samEnv := flag.String("write-sam-env", "", "write, instead of running, a `sam local invoke --env-vars` file pointing the template's functions at the local stack")
	template := flag.String("template", "cdk.out/PrivacyPipeline.template.json", "the synthesized template, for -write-sam-env")
	endpoint := flag.String("endpoint", "http://host.docker.internal:4566", "the local AWS services as SAM's containers reach them, for -write-sam-env")
	clientLimit := flag.String("rate-limit-client", os.Getenv("RATE_LIMIT_CLIENT"), "POST requests per client address, such as 30/1h, or off (env RATE_LIMIT_CLIENT)")
	identityLimit := flag.String("rate-limit-identity", os.Getenv("RATE_LIMIT_IDENTITY"), "submissions per email address, such as 10/24h, or off (env RATE_LIMIT_IDENTITY)")
	flag.Parse()
	if *samEnv != "" {
		return writeSAMEnv(*samEnv, *template, *endpoint, o.Region, o.TimeScale, o.APIPort)
	}
	for _, l := range []struct {
		flag string
		to   **ratelimit.Rule
	}{{*clientLimit, &o.ClientLimit}, {*identityLimit, &o.IdentityLimit}} {
		if l.flag == "" {
			continue
		}
		r, err := ratelimit.ParseRule(l.flag)
		if err != nil {
			return err
		}
		*l.to = &r
	}

	logs, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logs.Close()
	o.Logs = io.Writer(logs)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Println("Starting the local stack (moto, Lambda host, HTTP API)...")
	s, err := devstack.Start(ctx, o)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf(`
  Privacy request pipeline, local stack
  HTTP API       %[1]s          (form at %[1]s/ , health at %[1]s/healthz)
  Dev mailbox    %[1]s/_dev/mail
  Inbound mail   POST a raw message to %[1]s/_dev/inbound?dmarc=PASS  (operators: privacyctl inbox --local)
  Webhooks       %[1]s/_dev/webhooks  (what the demo help desk and recipients received)
  AWS (moto)     %[2]s          (AWS_ENDPOINT_URL=%[2]s, region %[3]s)
  Demo subject   %[4]s
  Time scale     %[5]g          (a statutory day lasts %.2[6]g s)
  Logs           %[7]s

  Try:  curl -s -X POST %[1]s/v1/requests -H 'Content-Type: application/json' \
          -d '{"type":"access","email":"%[4]s","jurisdiction":"EU"}'
  Stop: Ctrl-C
`, s.APIURL, s.MotoURL, s.Region, devstack.DemoSubject, o.TimeScale, 86400/o.TimeScale, *logFile)
	<-ctx.Done()
	fmt.Println("\nStopping...")
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return f
	}
	return def
}

// writeSAMEnv writes the env-vars file of `sam local invoke` for the
// functions of the synthesized template: the template's values, with every
// name it computes taken from the local stack.
func writeSAMEnv(file, template, endpoint, region string, timeScale float64, apiPort int) error {
	tpl, err := os.ReadFile(template)
	if err != nil {
		return fmt.Errorf("%w (make synth writes it)", err)
	}
	apiURL := "http://127.0.0.1:" + strconv.Itoa(apiPort)
	fns, err := devstack.TemplateFunctions(tpl, devstack.Env(region, apiURL, endpoint, timeScale))
	if err != nil {
		return err
	}
	b, err := devstack.SAMEnvVars(fns)
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}
