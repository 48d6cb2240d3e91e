package operator

import (
	"context"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/recipient"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Deliveries keeps what each recipient was told of a request.
type Deliveries interface {
	Delivery(ctx context.Context, requestID, recipientID string) (recipient.Delivery, bool, error)
	PutDelivery(ctx context.Context, d recipient.Delivery) error
}

// RecipientTold records that an operator told a recipient the workflow
// could not reach (its delivery is unreached) by other means. The delivery
// becomes told, by the operator, now, and the audit log says so. The
// erasure receipt, sealed before, keeps saying the recipient was not
// reached then: both are true, and the audit log has the rest.
func (o *Operator) RecipientTold(ctx context.Context, requestID, recipientID, who string) (recipient.Delivery, error) {
	if _, err := o.load(ctx, requestID); err != nil {
		return recipient.Delivery{}, err
	}
	if o.Deliveries == nil {
		return recipient.Delivery{}, apperr.E(apperr.Internal, "No store of deliveries to recipients is configured.")
	}
	d, ok, err := o.Deliveries.Delivery(ctx, requestID, recipientID)
	if err != nil {
		return recipient.Delivery{}, err
	}
	switch {
	case !ok:
		return recipient.Delivery{}, apperr.E(apperr.NotFound, "Recipient "+recipientID+" was never to be told of request "+requestID+" (privacyctl recipients "+requestID+" lists those that were).")
	case d.Status == recipient.Told:
		return recipient.Delivery{}, apperr.E(apperr.Conflict, "Recipient "+recipientID+" was told already ("+d.By+").")
	case d.Status != recipient.Unreached:
		return recipient.Delivery{}, apperr.E(apperr.Conflict, "The workflow is still trying to reach recipient "+recipientID+"; wait until it reports it unreached.")
	}
	now := o.Clock.Now().UTC()
	d.Status, d.By, d.At = recipient.Told, "operator:"+who, now
	if err := o.Deliveries.PutDelivery(ctx, d); err != nil {
		return recipient.Delivery{}, err
	}
	ev := request.Event{At: now, Actor: "operator:" + who, Action: "recipient_told_by_hand", Note: "recipient=" + recipientID}
	return d, o.Store.Record(ctx, requestID, ev)
}
