/**
 * A budget of log lines per second for lines a client can make the gateway
 * write at will (refused requests: a smuggling scanner sends thousands). Past
 * the budget, lines are counted instead of written; when the second that
 * suppressed some ends, `report` gets how many (one timer per window with
 * suppressions, none otherwise), so the log says what it left out.
 */
export class LineBudget {
  private windowStart = -Infinity;
  private used = 0;
  /** suppressed counts the lines left out in the current window. */
  private suppressed = 0;

  /**
   * @param perSecond returns the budget (read per call, so a reload applies at once); 0 suppresses every line.
   * @param report is told how many lines a window left out.
   */
  constructor(
    private readonly perSecond: () => number,
    private readonly report: (suppressed: number) => void,
  ) {}

  /** take tells whether a line may be written now; a refused one is counted. */
  take(): boolean {
    const now = performance.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.perSecond()) {
      this.used++;
      return true;
    }
    if (this.suppressed++ === 0) setTimeout(() => this.flush(), Math.max(1, 1000 - (now - this.windowStart))).unref();
    return false;
  }

  /** flush reports what the window left out. */
  flush(): void {
    const n = this.suppressed;
    if (n === 0) return;
    this.suppressed = 0;
    this.report(n);
  }
}
