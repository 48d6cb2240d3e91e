package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/privacy-pipeline/dsr/internal/secret"
)

// lambdaHost serves the Lambda Invoke API for handlers that run in this
// process, so moto's Step Functions interpreter calls the real Go code
// without containers. Every other path goes on to moto.
type lambdaHost struct {
	handlers map[string]any // Go handler functions, by function name
	moto     *httputil.ReverseProxy
	// faults, when set, kills some invocations (see Faults).
	faults *Faults
}

func newLambdaHost(motoURL string, handlers map[string]any) (*lambdaHost, error) {
	u, err := url.Parse(motoURL)
	if err != nil {
		return nil, err
	}
	return &lambdaHost{handlers: maps.Clone(handlers), moto: httputil.NewSingleHostReverseProxy(u)}, nil
}

const invokePrefix = "/2015-03-31/functions/"

func (h *lambdaHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if r.Method != http.MethodPost || !strings.HasPrefix(path, invokePrefix) || !strings.HasSuffix(path, "/invocations") {
		h.moto.ServeHTTP(w, r)
		return
	}
	// Every answer needs a request id: moto fails on a missing one.
	w.Header().Set("X-Amzn-RequestId", secret.NewToken()[:32])
	name, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(path, invokePrefix), "/invocations"))
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "bad function name")
		return
	}
	name = name[strings.LastIndex(name, ":")+1:] // an ARN or a plain name
	fn, ok := h.handlers[name]
	if !ok {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 6<<20)) // Lambda's synchronous payload limit
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "unreadable payload")
		return
	}
	ctx := withFunction(r.Context(), strings.TrimPrefix(name, namePrefix))
	var out []byte
	if h.faults != nil {
		var killed bool
		if out, killed, err = h.faults.invoke(ctx, fn, payload); killed {
			timedOut(w)
			return
		}
	} else {
		out, err = invoke(ctx, fn, payload)
	}
	if err != nil {
		// As Lambda does: HTTP 200 with X-Amz-Function-Error, and the Go
		// error's type name as errorType for Retry and Catch.
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": err.Error(), "errorType": errorType(err)})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// invoke runs a handler and turns a panic into an error, as the Lambda
// runtime does. The lambda.Handler is made for this one call: its Invoke
// returns the bytes of a pooled buffer it has already put back in its pool,
// so concurrent calls of a shared one could answer with each other's output.
func invoke(ctx context.Context, fn any, payload []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{msg: fmt.Sprint(p)}
		}
	}()
	return lambda.NewHandler(fn).Invoke(ctx, payload)
}

type panicError struct{ msg string }

func (e *panicError) Error() string { return e.msg }

// errorType names an error as the Go Lambda runtime does: its type name,
// without the pointer.
func errorType(err error) string {
	if _, ok := err.(*panicError); ok {
		return "Runtime.Panic"
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// timedOut answers as Lambda does for a function that ran out of time: the
// invocation failed, whatever the handler did or would have done.
func timedOut(w http.ResponseWriter) {
	w.Header().Set("X-Amz-Function-Error", "Unhandled")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": "Task timed out after 3.00 seconds", "errorType": "Sandbox.Timedout"})
}

func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}
