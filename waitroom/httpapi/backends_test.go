package httpapi_test

// backends are the stores every API test runs against.
var backends = []backend{
	{name: "embedded", open: openEmbedded},
}
