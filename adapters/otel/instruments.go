package otel

import (
	"errors"

	"go.opentelemetry.io/otel/metric"
)

// observables makes the observable instruments of one exporter on a meter,
// gathering the errors of their creation, so that an exporter declares its
// instruments one per line and checks once (err).
type observables struct {
	meter metric.Meter
	errs  []error
}

// gauge returns an int64 observable gauge.
func (o *observables) gauge(name, unit, desc string) metric.Int64ObservableGauge {
	g, err := o.meter.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
	o.errs = append(o.errs, err)
	return g
}

// counter returns an int64 observable counter.
func (o *observables) counter(name, unit, desc string) metric.Int64ObservableCounter {
	c, err := o.meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	o.errs = append(o.errs, err)
	return c
}

// err joins the errors of the instruments made so far.
func (o *observables) err() error { return errors.Join(o.errs...) }
