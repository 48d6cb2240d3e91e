package dynstore

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// watchWaitSK keeps, beside a request (same pk), the task token of the wait
// its deadline watch is in. It is an item of its own because the watch
// keeps it while the workflow saves the request: in the request item, every
// watch step would make a concurrent workflow step lose its versioned save.
const watchWaitSK = "watch-wait"

// watchWaitTTL outlives the longest execution Step Functions runs (a year),
// after which no token can be answered.
const watchWaitTTL = 400 * 24 * time.Hour

// SetWatchWait keeps the task token of the wait the request's deadline
// watch is in, replacing the one before.
func (s *Store) SetWatchWait(ctx context.Context, requestID, token string) error {
	ttl := &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(watchWaitTTL).Unix(), 10)}
	return putToken(ctx, s.api, s.table, requestID, watchWaitSK, token, map[string]types.AttributeValue{resources.Requests.TTLAttribute: ttl})
}

// WatchWait returns the task token of the wait the request's deadline watch
// is in, or "".
func (s *Store) WatchWait(ctx context.Context, requestID string) (string, error) {
	return getToken(ctx, s.api, s.table, requestID, watchWaitSK)
}
