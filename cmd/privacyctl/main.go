// Command privacyctl is the operator's tool for the privacy request pipeline.
//
//	privacyctl deadline --jurisdiction EU --type access --received 2026-01-31T10:00:00Z
//	privacyctl show ID
//	privacyctl extend ID --reason "..."
//	privacyctl approve ID | deny ID --reason "..."
//	privacyctl inbox [show|request|discard MAIL_ID]
//
// Exit status: 0 on success, 1 on failure, 2 on bad usage or input.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/statute"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `privacyctl: operate the privacy request pipeline

Usage:
  privacyctl deadline --jurisdiction CODE --type TYPE --received TIME [--verified TIME]
                     [--identity-received TIME] [--fee-paid TIME]
      Print the statutory deadlines of a request as JSON. Verification starts
      the clock where the law says so (New Jersey); identity information asked
      for and a fee paid start it where the law says so (UK Art 12A).

  privacyctl list [--status S] [--jurisdiction J] [--overdue] [--due-within DAYS] [--needs-decision] [--json]
      Open requests (or those in a status), soonest due first. --needs-decision:
      those whose deadline watch asks whether to extend.

  privacyctl show ID [--json]
      The request's status, deadlines and audit timeline.

  privacyctl records [--since YYYY-MM-DD] [--format csv|json]
      The record of requests and responses (CCPA Regs §7101; default: 24 months).

  privacyctl metrics [--year YYYY] [--json]
      Requests received, complied with, denied and median days to respond,
      by type (CCPA Regs §7102).

  privacyctl extend ID --reason TEXT [--reason TEXT...]
      Extend the deadline as far as the law allows (once, before the first
      due date); the subject is told the reasons and the new date. The law
      allows it only where it is necessary, and the reasons must be real.

  privacyctl keep-date ID
      The request needs no extension: its date stands. Answers the deadline
      watch's question (a set time before the notice point, the operators
      are asked; without an answer the company's policy decides: by default
      no extension and the request is flagged).

  privacyctl approve ID [--reason TEXT...] [--correct FIELD=VALUE...]
  privacyctl deny ID --reason TEXT [--reason TEXT...] [--provision TEXT]
  privacyctl deny ID --not-controller NAME --controller-contact URL|EMAIL
      Decide a request waiting for review; a denial tells the subject why
      and what they can do next. An appeal is decided the same way, always
      with reasons: approve grants it (the appealed request is carried out
      again, as a new verified request due within the appeal's period),
      deny upholds the decision (the subject is told the reasons and, where
      the law says so, how to complain to the Attorney General).
      --provision names the provision of law a refusal rests on (Quebec
      asks it); --not-controller refuses because another company controls
      the data and tells the subject whom to ask (Brazil's LGPD). A
      correction letter whose new values the rules could not read waits,
      once confirmed, for approve --correct with each value as the letter
      gives it.

  privacyctl letter ID
      The mail a request came by (From, subject, text), to read what it asks.

  privacyctl verify ID --method TEXT
      Record that the subject's identity was verified another way; the
      workflow goes on as after the subject's own confirmation.

  privacyctl cancel ID
      Cancel an open request at the subject's wish; the subject is told.

  privacyctl redrive ID
      Resume a failed request at the step that failed (after fixing the
      cause), not from the start.

  privacyctl estimate FILE [--touched SHARE] [--items N] [--parquet-read SHARE]
      What one erasure across the registry's sources is expected to cost
      and take in AWS (us-east-1 prices), from the sizes the registry lists
      (size: {bytes: "100 GB", objects: 2000} on an S3 source), make
      bench's rates and the stack's settings, each printed with it.

  privacyctl sources check FILE [--aws | --local]
      Check a data-source registry file: print a summary of its sources, or
      every problem with its line number (exit status 1). With --aws (the
      environment's account) or --local (the local stack), also check each
      source where it lives, showing nothing it reads: the table is there
      and its key schema fits the lookup; the bucket can be listed under
      the prefix, and one object's start agrees with the compression and,
      for CSV, the match columns.

  privacyctl policy check FILE
      Check the company's policy file (deployed beside the registry with
      make deploy POLICY=FILE): the promises it makes on top of the law, its
      choices on extensions, its authority and data protection officer, its
      languages and stricter verification. Mistakes name their line.

  privacyctl hold ID --reason TEXT
  privacyctl release ID
      Place a legal hold on an open delete request, or lift it. While held,
      erasure waits (state "Wait while a legal hold blocks erasure"); deny
      ends the wait too. The deadline watch keeps running.

  privacyctl findings ID [--json]
      Places in the sources that may hold the subject but were left as they
      were: a record that holds one of the subject's values but does not
      parse, a record that holds one where the registry does not look, an
      object that cannot be read. Each has an id, the object (or item) and
      the line or record; never what it holds. While one is open, a delete
      request waits (state "Wait for an operator to resolve the findings")
      and the subject is not told the erasure is done.

  privacyctl resolve ID FINDING_ID... --erased-by-hand|--not-subject [--note TEXT]
  privacyctl resolve ID --all --erased-by-hand|--not-subject [--note TEXT]
      Record what you found at each place: you erased the subject's data
      there by hand, or it holds nothing of the subject. Once none is open,
      erasure goes on to the receipt, which lists each finding and who
      resolved it. With no finding id, resume a wait that did not resume.

  privacyctl tasks [ID] [--json]
      The tasks of manual sources (systems the registry says their owners
      answer for): a request's, or every open one. Each is REQUEST_ID/SOURCE,
      with its owner, the last day to answer and what was answered, by whom
      and when. While one is open the request waits (states "Wait for the
      owners of manual sources to ...").

  privacyctl task done TASK_ID [--file F] [--note TEXT]
  privacyctl task none TASK_ID [--note TEXT]
      Answer a task for its owner: done (for access, --file is the export of
      the subject's data: CSV, JSON or PDF up to 4 MiB, checked by its
      content; for a delete, the owner erased the data there) or none (the
      system holds nothing of the subject). Recorded under your name; the
      erasure receipt says who attested what and when.

  privacyctl recipients ID [--json]
      What the recipients the registry names for the request's type (its
      notify: list) were told of it: told, still being tried, or unreached
      (with the reason), and when.

  privacyctl recipient told REQUEST_ID/RECIPIENT
      Record that you told a recipient the workflow could not reach. The
      delivery becomes told, under your name; the audit log says so. The
      erasure receipt, sealed before, keeps saying it was not reached then.

  privacyctl erase --dry-run ID [--json]
      What erasing a verified delete request would do in each source: the
      records it would delete, anonymize or retain (and why, until when),
      the keys and object versions it would touch. Changes nothing.

  privacyctl receipt ID [--json]
      The erasure receipt of a delete request: per source what was deleted,
      anonymized or retained (with the reason and until when), and how many
      keys and object versions were touched (listed, as keyed hashes, in --json).

  privacyctl receipts verify [--json]
      Check that the chain of erasure receipts holds together: each receipt
      matches its hash and names the hash of the one before. Names the first
      receipt that was changed, replaced or removed; exits 1 if there is one.

  privacyctl migrate-tables [--remove] [--json]
      Once, after upgrading from a version that kept audit events and
      erasure records in the requests table: copy them into the audit and
      receipts tables (as they are; an item already there is skipped), and
      with --remove delete the copied ones from the requests table. Run it
      before a delete request reaches its receipt: until then the receipt
      step refuses to begin a second chain. Prints counts only.

  privacyctl inbox [--json]
      Mail to the privacy inbox that waits for an operator: what the rules
      could not classify or read, and quarantined spam and viruses. Ids,
      reasons and verdicts only.

  privacyctl inbox show MAIL_ID
      The mail itself (From, Reply-To, subject, text) and its history.

  privacyctl inbox request MAIL_ID --type TYPE [--jurisdiction CODE]
      Make the mail a request for its From address, which gets the
      acknowledgement and the verification link (never Reply-To).

  privacyctl inbox discard MAIL_ID --reason spam|not_a_request|duplicate|answered
      Drop the mail; its raw message expires from the bucket.

  privacyctl help
      Show this help.

Commands that act on requests take --by NAME (default $USER) for the audit
log; --stack NAME (or PRIVACY_STACK) to read the pipeline's names from that
CloudFormation stack's outputs in the account and region of your AWS
credentials; --local to act on the local stack (make dev). Without either,
the environment names them (REQUESTS_TABLE, AUDIT_TABLE, RECEIPTS_TABLE,
REQUEST_STATE_MACHINE_ARN, ...; a variable set there wins over an output).
privacyctl show links the request's execution in the Step Functions console.

Times are RFC 3339 (2026-01-31T10:00:00Z). Dates in the output are the last
day that is on time, in the jurisdiction's time zone.
`

// errUsage marks input errors, which exit with status 2.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if slices.ContainsFunc(args[1:], isHelpFlag) {
		if help := commandHelp(args[0]); help != "" {
			fmt.Fprint(stdout, help)
			return 0
		}
	}
	var err error
	switch args[0] {
	case "deadline":
		err = deadline(args[1:], stdout)
	case "show":
		err = show(args[1:], stdout)
	case "list":
		err = list(args[1:], stdout)
	case "records":
		err = records(args[1:], stdout)
	case "metrics":
		err = metrics(args[1:], stdout)
	case "extend":
		err = extend(args[1:], stdout)
	case "keep-date":
		err = keepDate(args[1:], stdout)
	case "approve":
		err = approve(args[1:], stdout)
	case "letter":
		err = letter(args[1:], stdout)
	case "deny":
		err = deny(args[1:], stdout)
	case "verify":
		err = verify(args[1:], stdout)
	case "cancel":
		err = cancel(args[1:], stdout)
	case "redrive":
		err = redrive(args[1:], stdout)
	case "hold":
		err = hold(args[1:], stdout)
	case "release":
		err = release(args[1:], stdout)
	case "findings":
		err = findings(args[1:], stdout)
	case "resolve":
		err = resolve(args[1:], stdout)
	case "tasks":
		err = tasks(args[1:], stdout)
	case "task":
		err = task(args[1:], stdout)
	case "recipients":
		err = recipients(args[1:], stdout)
	case "recipient":
		err = recipientCmd(args[1:], stdout)
	case "erase":
		err = erase(args[1:], stdout)
	case "receipt":
		err = receipt(args[1:], stdout)
	case "receipts":
		err = receipts(args[1:], stdout)
	case "migrate-tables":
		err = migrateTables(args[1:], stdout)
	case "inbox":
		err = inbox(args[1:], stdout)
	case "estimate":
		err = estimateCmd(args[1:], stdout, stderr)
	case "sources":
		err = sources(args[1:], stdout, stderr)
	case "policy":
		err = policyCmd(args[1:], stdout, stderr)
	default:
		err = fmt.Errorf("%w: unknown command %q (see privacyctl help)", errUsage, args[0])
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errInvalid):
		return 1
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "privacyctl:", strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	default:
		fmt.Fprintln(stderr, "privacyctl:", err)
		return 1
	}
}

func isHelpFlag(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// commandHelp returns the paragraphs of the usage text that describe command,
// or "" for a command the usage does not know.
func commandHelp(command string) string {
	var b strings.Builder
	for _, para := range strings.Split(usage, "\n\n") {
		for _, line := range strings.Split(para, "\n") {
			fields := strings.Fields(line)
			if len(fields) >= 2 && fields[0] == "privacyctl" && fields[1] == command {
				b.WriteString(para + "\n\n")
				break
			}
		}
	}
	return b.String()
}

func deadline(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("deadline", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	jurisdiction := fs.String("jurisdiction", "", "jurisdiction code, e.g. EU, UK, US-CA")
	typ := fs.String("type", "", "request type: "+strings.Join(statute.RequestTypes, ", "))
	received := fs.String("received", "", "when the request was received (RFC 3339)")
	verified := fs.String("verified", "", "when the subject was verified (RFC 3339), where the clock starts then")
	identity := fs.String("identity-received", "", "when identity information asked for arrived (RFC 3339), where it starts the clock (UK)")
	fee := fs.String("fee-paid", "", "when a fee charged was paid (RFC 3339), where it starts the clock (UK)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: deadline: %v", errUsage, err)
	}
	if *jurisdiction == "" || *typ == "" || *received == "" {
		return fmt.Errorf("%w: deadline needs --jurisdiction, --type and --received", errUsage)
	}
	in := statute.Input{Jurisdiction: strings.ToUpper(*jurisdiction), Type: *typ}
	var err error
	if in.Received, err = time.Parse(time.RFC3339, *received); err != nil {
		return fmt.Errorf("%w: --received %q is not an RFC 3339 time like 2026-01-31T10:00:00Z", errUsage, *received)
	}
	for _, f := range []struct {
		name, value string
		into        *time.Time
	}{{"verified", *verified, &in.Verified}, {"identity-received", *identity, &in.IdentityReceived}, {"fee-paid", *fee, &in.FeePaid}} {
		if f.value == "" {
			continue
		}
		if *f.into, err = time.Parse(time.RFC3339, f.value); err != nil {
			return fmt.Errorf("%w: --%s %q is not an RFC 3339 time", errUsage, f.name, f.value)
		}
	}
	rules, err := statute.Load()
	if err != nil {
		return err
	}
	d, err := rules.Compute(in)
	switch {
	case errors.Is(err, statute.ErrUnknownJurisdiction):
		return fmt.Errorf("%w: unknown jurisdiction %q; known: %s", errUsage, in.Jurisdiction, strings.Join(rules.Codes(), ", "))
	case errors.Is(err, statute.ErrUnknownType):
		return fmt.Errorf("%w: unknown type %q; known: %s", errUsage, in.Type, strings.Join(statute.RequestTypes, ", "))
	case errors.Is(err, statute.ErrNotProvided):
		return fmt.Errorf("%w: %v", errUsage, err)
	case err != nil:
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
