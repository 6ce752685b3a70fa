import type { FC } from "hono/jsx";
import type { AnswerTally } from "../../reasoning/vote.js";

const BAR_HEIGHT = 22;
const LABEL_WIDTH = 140;
const BAR_WIDTH = 420;

/** The vote as a horizontal bar chart (inline SVG): one bar per distinct answer, its share of the vote. */
export const VoteChart: FC<{ tallies: AnswerTally[]; winner?: string }> = ({ tallies, winner }) => {
  const height = tallies.length * (BAR_HEIGHT + 6) + 4;
  return (
    <svg
      role="img"
      aria-label="vote tally"
      width={LABEL_WIDTH + BAR_WIDTH + 120}
      height={height}
      viewBox={`0 0 ${LABEL_WIDTH + BAR_WIDTH + 120} ${height}`}
      data-chart="votes"
    >
      {tallies.map((t, i) => {
        const y = 2 + i * (BAR_HEIGHT + 6);
        const width = Math.max(1, t.share * BAR_WIDTH);
        return (
          <g data-answer={t.answer} data-share={String(t.share)} data-count={String(t.count)}>
            <text
              x={LABEL_WIDTH - 8}
              y={y + BAR_HEIGHT * 0.7}
              text-anchor="end"
              font-size="13"
              fill="currentColor"
            >
              {t.display.length > 18 ? `${t.display.slice(0, 17)}…` : t.display}
            </text>
            <rect
              x={LABEL_WIDTH}
              y={y}
              width={width}
              height={BAR_HEIGHT}
              rx="3"
              fill={t.answer === winner ? "#2563eb" : "#9ca3af"}
            />
            <text x={LABEL_WIDTH + width + 6} y={y + BAR_HEIGHT * 0.7} font-size="12" fill="currentColor">
              {`${t.count} vote${t.count === 1 ? "" : "s"} · ${(t.share * 100).toFixed(1)}%`}
            </text>
          </g>
        );
      })}
    </svg>
  );
};
