package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes the API. It is kept by hand next to the handlers;
// TestOpenAPIContract runs the handlers against it and TestOpenAPIEnums checks
// its enumerations against the domain, so it cannot drift from the code.
//
//go:embed openapi.json
var openAPIDocument []byte

func (a *api) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
}

// GPCLastUpdate is when the statement of support for Global Privacy Control
// was last changed: change it whenever what the site does with `Sec-GPC`
// changes, so the statement stays dated for legal purposes.
const GPCLastUpdate = "2026-11-23"

// gpcSupport serves /.well-known/gpc.json, the GPC support resource: the site
// honours the `Sec-GPC: 1` signal as an opt-out of sale and sharing.
func (a *api) gpcSupport(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		GPC        bool   `json:"gpc"`
		LastUpdate string `json:"lastUpdate"`
	}{GPC: true, LastUpdate: GPCLastUpdate})
}
