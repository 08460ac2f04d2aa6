package cli

import (
	"github.com/spf13/cobra"
	"github.com/surgeload/surge/internal/report"
)

const reportLong = `Render a saved result (written by surge run or surge find with --json)
again: the terminal summary, or with --html a self-contained HTML report:
the verdict and key figures in plain HTML, and charts of throughput,
latency percentiles, errors and users per second, the latency distribution,
status codes and error classes; for find results, throughput and latency
against load with the SLO and the capacity marked, and the target's CPU and
memory per level. The file makes no network request.

Examples:
  surge report result.json
  surge report result.json --html report.html

Exit codes: 0 rendered; 2 bad usage or input (a missing file, not a surge
result); 1 anything else.`

func newReportCmd(env Env) *cobra.Command {
	var htmlOut string
	cmd := &cobra.Command{
		Use:   "report [flags] RESULT.json",
		Short: "Render a saved result again, as text or as an HTML report",
		Long:  reportLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("surge report takes one result file, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := readResult(args[0])
			if err != nil {
				return err
			}
			if htmlOut != "" {
				html, err := openHTML(htmlOut)
				if err != nil {
					return err
				}
				defer html.Close()
				return html.writeResult(r)
			}
			if r.Capacity != nil && r.Bottleneck != nil {
				return report.Find(env.Stdout, r)
			}
			return report.Summary(env.Stdout, r)
		},
	}
	cmd.Flags().StringVar(&htmlOut, "html", "", "write a self-contained HTML report to `OUT` instead of the text summary")
	return cmd
}
