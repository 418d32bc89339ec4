// Swagger UI's start for /docs (api/routes/docs.py): a file of this origin, not an inline
// script, so the page's Content-Security-Policy needs no exception for it. The document's URL
// comes from this script's own tag, which holds the prefix the app is served under.
"use strict";

window.ui = SwaggerUIBundle({
  url: document.currentScript.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
