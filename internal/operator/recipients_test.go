package operator

import (
	"context"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/recipient"
	"github.com/privacy-pipeline/dsr/internal/request"
)

type fakeDeliveries map[string]recipient.Delivery

func (f fakeDeliveries) Delivery(_ context.Context, requestID, recipientID string) (recipient.Delivery, bool, error) {
	d, ok := f[requestID+"/"+recipientID]
	return d, ok, nil
}

func (f fakeDeliveries) PutDelivery(_ context.Context, d recipient.Delivery) error {
	f[d.RequestID+"/"+d.RecipientID] = d
	return nil
}

func TestRecipientTold(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		status    recipient.Status // "" when no delivery is kept
		recipient string
		kind      apperr.Kind // 0: recorded
	}{
		{"unreached: told by hand", recipient.Unreached, "adco", 0},
		{"told already", recipient.Told, "adco", apperr.Conflict},
		{"still being tried", recipient.Retrying, "adco", apperr.Conflict},
		{"never to be told", "", "nobody", apperr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv()
			r := request.Request{ID: reqID, Type: request.Delete, Status: request.Completed, ReceivedAt: received}
			e.store.put(r)
			ds := fakeDeliveries{}
			if tt.status != "" {
				ds[reqID+"/adco"] = recipient.Delivery{RequestID: reqID, RecipientID: "adco", Name: "AdCo Ltd", Status: tt.status, Reason: "status 503"}
			}
			e.op.Deliveries = ds
			d, err := e.op.RecipientTold(ctx, reqID, tt.recipient, who)
			if tt.kind != 0 {
				if !apperr.Is(err, tt.kind) {
					t.Fatalf("RecipientTold = %v, want kind %v", err, tt.kind)
				}
				if tt.status != "" && ds[reqID+"/adco"].Status != tt.status {
					t.Fatal("a refused call changed the delivery")
				}
				return
			}
			if err != nil || d.Status != recipient.Told || d.By != "operator:"+who || !d.At.Equal(now) || ds[reqID+"/adco"] != d {
				t.Fatalf("RecipientTold = %+v, %v", d, err)
			}
			evs, _ := e.store.Events(ctx, reqID)
			if len(evs) == 0 || evs[len(evs)-1].Action != "recipient_told_by_hand" || evs[len(evs)-1].Note != "recipient=adco" {
				t.Fatalf("audit %+v", evs)
			}
		})
	}
}
