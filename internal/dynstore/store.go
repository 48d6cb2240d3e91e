// Package dynstore stores requests and their audit events in the pipeline's
// own DynamoDB tables (the company's tables, where subjects' data is, are
// dynsrc's). Every save is conditional on the version read and writes its
// audit event, in the audit table, in the same transaction.
package dynstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Store keeps requests in one table (pk = request id, sk = "request") and
// their audit events in another (pk = request id, sk = "audit#...").
type Store struct {
	api   API
	table string
	audit string
	seq   atomic.Uint64
}

// NewStore returns a store on the named requests and audit tables.
func NewStore(api API, table, audit string) *Store {
	return &Store{api: api, table: table, audit: audit}
}

const requestSK = "request"

// record is a request as stored: one flat item, each field of a part of
// request.Request under the attribute it had before the parts existed
// (verify_*, agent_email, export_key, review_task_token, ...). The names are
// the stored data's: changing one loses that field of every stored request.
type record struct {
	PK                    string              `dynamodbav:"pk"`
	SK                    string              `dynamodbav:"sk"`
	Kind                  string              `dynamodbav:"kind"` // "request", the by-received index's key
	Type                  string              `dynamodbav:"type"`
	Status                string              `dynamodbav:"status"`
	Jurisdiction          string              `dynamodbav:"jurisdiction"`
	Email                 string              `dynamodbav:"email"`
	Language              string              `dynamodbav:"language,omitempty"`
	ReceivedAt            time.Time           `dynamodbav:"received_at"`
	UpdatedAt             time.Time           `dynamodbav:"updated_at"`
	StatusTokenHash       string              `dynamodbav:"status_token_hash,omitempty"`
	VerifyTokenHash       string              `dynamodbav:"verify_token_hash,omitempty"`
	VerifyCodeHash        string              `dynamodbav:"verify_code_hash,omitempty"`
	VerifyFailures        int                 `dynamodbav:"verify_failures,omitempty"`
	VerifyLocked          bool                `dynamodbav:"verify_locked,omitempty"`
	Level                 string              `dynamodbav:"verify_level,omitempty"` // JSON of statute.Level
	DeclaredBy            string              `dynamodbav:"declared_by,omitempty"`
	AgentEmail            string              `dynamodbav:"agent_email,omitempty"`
	PermissionKey         string              `dynamodbav:"permission_key,omitempty"`
	PermissionType        string              `dynamodbav:"permission_type,omitempty"`
	PowerOfAttorney       bool                `dynamodbav:"power_of_attorney,omitempty"`
	VerifyExpiresAt       time.Time           `dynamodbav:"verify_expires_at,omitempty"`
	TaskToken             string              `dynamodbav:"task_token,omitempty"`
	Identities            map[string][]string `dynamodbav:"identities,omitempty"`
	ExportKey             string              `dynamodbav:"export_key,omitempty"`
	DownloadTokenHash     string              `dynamodbav:"download_token_hash,omitempty"`
	DownloadExpiresAt     time.Time           `dynamodbav:"download_expires_at,omitempty"`
	NeedsOperator         bool                `dynamodbav:"needs_operator,omitempty"`
	CompletedAt           time.Time           `dynamodbav:"completed_at,omitempty"`
	Deadlines             string              `dynamodbav:"deadlines,omitempty"` // JSON of statute.Deadlines
	DueDate               string              `dynamodbav:"due_date,omitempty"`  // for queries by due date
	Extended              bool                `dynamodbav:"extended,omitempty"`
	ExtensionReasons      []string            `dynamodbav:"extension_reasons,omitempty"`
	Overdue               bool                `dynamodbav:"overdue,omitempty"`
	ExtensionTaskToken    string              `dynamodbav:"extension_task_token,omitempty"`
	ExtensionDecision     string              `dynamodbav:"extension_decision,omitempty"`
	ReviewTaskToken       string              `dynamodbav:"review_task_token,omitempty"`
	DenialReasons         []string            `dynamodbav:"denial_reasons,omitempty"`
	DenialProvision       string              `dynamodbav:"denial_provision,omitempty"`
	OtherController       string              `dynamodbav:"other_controller,omitempty"`
	OtherControllerReach  string              `dynamodbav:"other_controller_contact,omitempty"`
	Redrives              int                 `dynamodbav:"redrives,omitempty"`
	Via                   string              `dynamodbav:"via,omitempty"`
	JoinedTo              string              `dynamodbav:"joined_to,omitempty"`
	DryRun                bool                `dynamodbav:"dry_run,omitempty"`
	OnHold                bool                `dynamodbav:"on_hold,omitempty"`
	HoldReasons           []string            `dynamodbav:"hold_reasons,omitempty"`
	HoldTaskToken         string              `dynamodbav:"hold_task_token,omitempty"`
	Corrections           map[string]string   `dynamodbav:"corrections,omitempty"`
	CorrectedFields       []string            `dynamodbav:"corrected_fields,omitempty"`
	CorrectedItems        int                 `dynamodbav:"corrected_items,omitempty"`
	MailKey               string              `dynamodbav:"mail_key,omitempty"`
	UnauthenticatedSender bool                `dynamodbav:"unauthenticated_sender,omitempty"`
	MailSiblings          []string            `dynamodbav:"mail_siblings,omitempty"`
	AppealOf              string              `dynamodbav:"appeal_of,omitempty"`
	AppealedBy            string              `dynamodbav:"appealed_by,omitempty"`
	GrantReasons          []string            `dynamodbav:"grant_reasons,omitempty"`
	FollowUp              string              `dynamodbav:"follow_up,omitempty"`
	FollowsAppeal         string              `dynamodbav:"follows_appeal,omitempty"`
	Version               int                 `dynamodbav:"version"`
}

type auditRecord struct {
	PK     string    `dynamodbav:"pk"`
	SK     string    `dynamodbav:"sk"`
	At     time.Time `dynamodbav:"at"`
	Actor  string    `dynamodbav:"actor"`
	Action string    `dynamodbav:"action"`
	From   string    `dynamodbav:"from,omitempty"`
	To     string    `dynamodbav:"to,omitempty"`
	Note   string    `dynamodbav:"note,omitempty"`
}

func toRecord(r *request.Request) (record, error) {
	var deadlines, due string
	if r.Deadlines.Jurisdiction != "" {
		b, err := json.Marshal(r.Deadlines)
		if err != nil {
			return record{}, err
		}
		deadlines, due = string(b), r.Deadlines.Due.String()
	}
	level, err := json.Marshal(r.Verification.Level)
	if err != nil {
		return record{}, err
	}
	return record{
		PK: r.ID, SK: requestSK, Kind: requestSK, Type: string(r.Type), Status: string(r.Status), Jurisdiction: r.Jurisdiction,
		Email: r.Email, Language: string(r.Language), ReceivedAt: r.ReceivedAt, UpdatedAt: r.UpdatedAt, StatusTokenHash: r.StatusTokenHash,

		VerifyTokenHash: r.Verification.TokenHash, VerifyCodeHash: r.Verification.CodeHash, VerifyExpiresAt: r.Verification.ExpiresAt,
		VerifyFailures: r.Verification.Failures, VerifyLocked: r.Verification.Locked, Level: string(level),
		DeclaredBy: r.Verification.DeclaredBy, TaskToken: r.Verification.TaskToken,

		AgentEmail: r.Agent.Email, PermissionKey: r.Agent.PermissionKey, PermissionType: r.Agent.PermissionType,
		PowerOfAttorney: r.Agent.PowerOfAttorney,

		Identities: r.Identities,

		ExportKey: r.Delivery.ExportKey, DownloadTokenHash: r.Delivery.TokenHash, DownloadExpiresAt: r.Delivery.ExpiresAt,
		NeedsOperator: r.NeedsOperator, CompletedAt: r.CompletedAt,
		MailKey: r.Mail.Key, UnauthenticatedSender: r.Mail.UnauthenticatedSender, MailSiblings: r.Mail.Siblings,

		Deadlines: deadlines, DueDate: due, Extended: r.Extended,
		ExtensionReasons: r.Extension.Reasons, ExtensionTaskToken: r.Extension.TaskToken, ExtensionDecision: r.Extension.Decision,
		Overdue: r.Overdue, ReviewTaskToken: r.Review.TaskToken,
		DenialReasons: r.Denial.Reasons, DenialProvision: r.Denial.Provision,
		OtherController: r.Denial.OtherController, OtherControllerReach: r.Denial.OtherControllerContact,
		Redrives: r.Redrives,

		Via: r.Via, JoinedTo: r.JoinedTo, DryRun: r.DryRun,
		OnHold: r.OnHold, HoldReasons: r.Hold.Reasons, HoldTaskToken: r.Hold.TaskToken,
		Corrections: r.Correction.Values, CorrectedFields: r.Correction.Fields, CorrectedItems: r.Correction.Items,
		AppealOf: r.Appeal.Of, AppealedBy: r.Appeal.AppealedBy, GrantReasons: r.Appeal.GrantReasons,
		FollowUp: r.Appeal.FollowUp, FollowsAppeal: r.Appeal.FollowsAppeal,

		Version: r.Version,
	}, nil
}

func (rec record) request() (*request.Request, error) {
	r := &request.Request{
		ID: rec.PK, Type: request.Type(rec.Type), Status: request.Status(rec.Status), Jurisdiction: rec.Jurisdiction,
		Email: rec.Email, Language: i18n.Lang(rec.Language), ReceivedAt: rec.ReceivedAt, UpdatedAt: rec.UpdatedAt,
		StatusTokenHash: rec.StatusTokenHash,
		Verification: request.Verification{
			TokenHash: rec.VerifyTokenHash, CodeHash: rec.VerifyCodeHash, ExpiresAt: rec.VerifyExpiresAt,
			Failures: rec.VerifyFailures, Locked: rec.VerifyLocked, DeclaredBy: rec.DeclaredBy, TaskToken: rec.TaskToken,
		},
		Agent: request.Agent{
			Email: rec.AgentEmail, PermissionKey: rec.PermissionKey, PermissionType: rec.PermissionType,
			PowerOfAttorney: rec.PowerOfAttorney,
		},
		Identities:    rec.Identities,
		Delivery:      request.Delivery{ExportKey: rec.ExportKey, TokenHash: rec.DownloadTokenHash, ExpiresAt: rec.DownloadExpiresAt},
		NeedsOperator: rec.NeedsOperator,
		CompletedAt:   rec.CompletedAt,
		Mail:          request.ByMail{Key: rec.MailKey, UnauthenticatedSender: rec.UnauthenticatedSender, Siblings: rec.MailSiblings},
		Extended:      rec.Extended,
		Extension:     request.Extension{Reasons: rec.ExtensionReasons, TaskToken: rec.ExtensionTaskToken, Decision: rec.ExtensionDecision},
		Overdue:       rec.Overdue,
		Review:        request.Review{TaskToken: rec.ReviewTaskToken},
		Denial: request.Denial{
			Reasons: rec.DenialReasons, Provision: rec.DenialProvision,
			OtherController: rec.OtherController, OtherControllerContact: rec.OtherControllerReach,
		},
		Redrives: rec.Redrives,
		Via:      rec.Via,
		JoinedTo: rec.JoinedTo,
		DryRun:   rec.DryRun,
		OnHold:   rec.OnHold,
		Hold:     request.Hold{Reasons: rec.HoldReasons, TaskToken: rec.HoldTaskToken},
		Correction: request.Correction{
			Values: rec.Corrections, Fields: rec.CorrectedFields, Items: rec.CorrectedItems,
		},
		Appeal: request.AppealLinks{
			Of: rec.AppealOf, AppealedBy: rec.AppealedBy, GrantReasons: rec.GrantReasons,
			FollowUp: rec.FollowUp, FollowsAppeal: rec.FollowsAppeal,
		},
		Version: rec.Version,
	}
	if rec.Level != "" {
		if err := json.Unmarshal([]byte(rec.Level), &r.Verification.Level); err != nil {
			return nil, err
		}
	}
	if rec.Deadlines != "" {
		if err := json.Unmarshal([]byte(rec.Deadlines), &r.Deadlines); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func key(id, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: id},
		"sk": &types.AttributeValueMemberS{Value: sk},
	}
}

// Get returns the request with the given id, or a NotFound error.
func (s *Store) Get(ctx context.Context, id string) (*request.Request, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(id, requestSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	if out.Item == nil {
		return nil, apperr.E(apperr.NotFound, "No such request.")
	}
	var rec record
	if err := attributevalue.UnmarshalMap(out.Item, &rec); err != nil {
		return nil, apperr.Wrap(apperr.Internal, "A stored request could not be read.", err)
	}
	r, err := rec.request()
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "A stored request could not be read.", err)
	}
	return r, nil
}

// Save writes r and its audit event atomically. A new request (Version 0)
// must not exist yet; an existing one must still be at the version read.
// On success r.Version is incremented. A lost race is a Conflict.
func (s *Store) Save(ctx context.Context, r *request.Request, ev request.Event) error {
	rec, err := toRecord(r)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "A request could not be stored.", err)
	}
	rec.Version = r.Version + 1
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "A request could not be stored.", err)
	}
	put := &types.Put{TableName: &s.table, Item: item}
	if r.Version == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: fmt.Sprint(r.Version)},
		}
	}
	audit, err := s.auditItem(r.ID, ev)
	if err != nil {
		return err
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: put},
		{Put: &types.Put{TableName: &s.audit, Item: audit, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	if err != nil {
		var canceled *types.TransactionCanceledException
		if errors.As(err, &canceled) {
			for _, reason := range canceled.CancellationReasons {
				if aws.ToString(reason.Code) == "ConditionalCheckFailed" {
					return apperr.Wrap(apperr.Conflict, "The request was changed by someone else; try again.", request.ErrChanged)
				}
			}
		}
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	r.Version = rec.Version
	return nil
}

// Record appends an audit event that changes nothing on the request itself,
// such as one source's erasure finishing while others still run.
func (s *Store) Record(ctx context.Context, id string, ev request.Event) error {
	item, err := s.auditItem(id, ev)
	if err != nil {
		return err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.audit, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
	}
	return nil
}

func (s *Store) auditItem(id string, ev request.Event) (map[string]types.AttributeValue, error) {
	sk, err := s.auditSK(ev.At)
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "An audit event could not be stored.", err)
	}
	item, err := attributevalue.MarshalMap(auditRecord{
		PK: id, SK: sk, At: ev.At, Actor: ev.Actor, Action: ev.Action,
		From: string(ev.From), To: string(ev.To), Note: ev.Note,
	})
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "An audit event could not be stored.", err)
	}
	return item, nil
}

// auditSK orders events by time, keeps two events of this process in the
// same instant in order, and ends in 128 random bits. Functions may put
// audit events but not read them, and DynamoDB cannot make a PutItem keep
// its condition: a writer that could name an event already there could
// overwrite it. It cannot name one it has not read.
func (s *Store) auditSK(at time.Time) (string, error) {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%s#%06d#%s", auditPrefix, at.UTC().Format("2006-01-02T15:04:05.000000000Z"), s.seq.Add(1)%1000000, hex.EncodeToString(nonce[:])), nil
}

// auditPrefix begins every event's sort key. Events stored before the
// random part was added ("audit#<time>#<n>") sort among the others by time.
const auditPrefix = "audit#"

// Events returns the audit log of a request, oldest first.
func (s *Store) Events(ctx context.Context, id string) ([]request.Event, error) {
	var events []request.Event
	err := eachItem(ctx, s.api, s.audit, id, auditPrefix, func(item map[string]types.AttributeValue) error {
		var a auditRecord
		if err := attributevalue.UnmarshalMap(item, &a); err != nil {
			return apperr.Wrap(apperr.Internal, "An audit event could not be read.", err)
		}
		events = append(events, request.Event{At: a.At, Actor: a.Actor, Action: a.Action,
			From: request.Status(a.From), To: request.Status(a.To), Note: a.Note})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}

// List returns the requests a query selects: by status (in due-date order)
// through one index, or by receipt time through another.
func (s *Store) List(ctx context.Context, q request.Query) ([]*request.Request, error) {
	var inputs []*dynamodb.QueryInput
	if len(q.Statuses) > 0 {
		for _, st := range q.Statuses {
			inputs = append(inputs, &dynamodb.QueryInput{
				TableName: &s.table, IndexName: aws.String(resources.ByStatus.Name),
				KeyConditionExpression:    aws.String("#status = :status"),
				ExpressionAttributeNames:  map[string]string{"#status": resources.ByStatus.PartitionKey.Name},
				ExpressionAttributeValues: map[string]types.AttributeValue{":status": &types.AttributeValueMemberS{Value: string(st)}},
			})
		}
	} else {
		until := q.Until
		if until.IsZero() {
			until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		inputs = append(inputs, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(resources.ByReceived.Name),
			KeyConditionExpression:   aws.String("#kind = :request AND #received BETWEEN :since AND :until"),
			ExpressionAttributeNames: map[string]string{"#kind": resources.ByReceived.PartitionKey.Name, "#received": resources.ByReceived.SortKey.Name},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":request": &types.AttributeValueMemberS{Value: requestSK},
				":since":   &types.AttributeValueMemberS{Value: q.Since.UTC().Format(time.RFC3339Nano)},
				":until":   &types.AttributeValueMemberS{Value: until.UTC().Format(time.RFC3339Nano)},
			},
		})
	}
	var out []*request.Request
	for _, in := range inputs {
		p := dynamodb.NewQueryPaginator(s.api, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, apperr.Wrap(apperr.Unavailable, "Request storage is unavailable.", err)
			}
			for _, item := range page.Items {
				var rec record
				if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
					return nil, apperr.Wrap(apperr.Internal, "A stored request could not be read.", err)
				}
				r, err := rec.request()
				if err != nil {
					return nil, apperr.Wrap(apperr.Internal, "A stored request could not be read.", err)
				}
				out = append(out, r)
			}
		}
	}
	return out, nil
}
