package audit

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// CSVHeader is the header row of WriteCSV.
var CSVHeader = []string{"rule", "title", "severity", "status", "account", "resource", "message", "remediation", "evidence"}

// WriteCSV writes every finding of rep as one CSV row (RFC 4180, with a
// header row): evidence items are joined by newlines inside their cell.
func WriteCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, f := range rep.Findings {
		row := []string{f.Rule, f.Title, string(f.Severity), string(f.Status), f.Account, f.Resource, f.Message, f.Remediation,
			strings.Join(f.Evidence, "\n")}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
