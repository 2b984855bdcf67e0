package service_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/harborpoint/concord/examples/holdservice/service"
	"github.com/harborpoint/concord/replica"
)

// A region's hold service over a store of your choosing (here in memory),
// serving one request.
func ExampleNew() {
	svc, err := service.New(context.Background(), service.Config{Region: "lisbon", Store: replica.NewMemoryStore()})
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest("PUT", "/holds/H-8821", strings.NewReader(`{"cabin":"C14","expires_at":"2030-01-01T10:00:00Z"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-None-Match", "*")
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, req)
	fmt.Println(rec.Code, http.StatusText(rec.Code), rec.Header().Get("Location"))
	// Output: 201 Created /holds/H-8821
}
