// Package docs holds the documents that must ship inside the binary: the
// OpenAPI description of the HTTP API, served at /v1/openapi.yaml and used by
// the API tests to validate every response. It lives here, beside the prose
// docs, so the file integrators are pointed to (docs/openapi.yaml) is the one
// that is served and tested; no copy can go stale.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, the OpenAPI 3.1 description of every /v1
// operation.
//
//go:embed openapi.yaml
var OpenAPI []byte
