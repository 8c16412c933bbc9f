// Package docs holds the project's documentation; it embeds the OpenAPI
// document, which the server serves at GET /api/openapi.yaml and
// /api/openapi.json. docs/openapi.yaml is the one copy: edit it here.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml as built into the binary.
//
//go:embed openapi.yaml
var OpenAPI []byte
