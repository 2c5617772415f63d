// /?doc: Swagger UI (vendor/swagger-ui, pinned) renders /?spec. No online
// validator badge (it would send the spec's URL elsewhere), no "try it
// out" (a stream request never ends, so Swagger UI would wait forever).
window.addEventListener('DOMContentLoaded', () => {
  window.ui = window.SwaggerUIBundle({
    url: '/?spec',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    supportedSubmitMethods: [],
  });
});
