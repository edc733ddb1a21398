package smpp

import "github.com/prometheus/client_golang/prometheus"

// register makes the client's series and registers them on reg (nil:
// nowhere):
//
//	perk_smpp_bound                      1 while a transceiver bind is up
//	perk_smpp_binds_total                binds that succeeded: more than one means the link dropped
//	perk_smpp_window_in_use              submit_sm awaiting a response (or a bind) now
//	perk_smpp_window_size                the most that may (Config.Window)
//	perk_smpp_submit_duration_seconds    submit_sm to its submit_sm_resp: the SMSC's own latency
//
// The gauges are read when scraped, so the send path pays nothing for them.
func (c *Client) register(reg prometheus.Registerer) {
	c.submitTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "perk_smpp_submit_duration_seconds",
		Help:    "Time from a submit_sm to the SMSC's submit_sm_resp (accepting or refusing it); a submit left unanswered is not observed.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	c.binds = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "perk_smpp_binds_total", Help: "Transceiver binds to the SMSC that succeeded; each after the first followed a lost connection.",
	})
	if reg == nil {
		return
	}
	reg.MustRegister(c.submitTime, c.binds,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "perk_smpp_bound", Help: "1 while the SMPP transceiver bind is up, 0 while connecting or down (messages wait in the queue).",
		}, func() float64 {
			if c.Bound() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "perk_smpp_window_in_use", Help: "submit_sm sent and awaiting a response, or waiting for a bind to go out on.",
		}, func() float64 { return float64(len(c.window)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "perk_smpp_window_size", Help: "The most submit_sm that may await a response at once (window= on the SMPP URL).",
		}, func() float64 { return float64(cap(c.window)) }),
	)
}
