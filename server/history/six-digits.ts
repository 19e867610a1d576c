/** Powers of ten that are exact doubles (up to 10^22). */
const POWERS = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * `Number(value.toPrecision(6))`, the precision downsampled means are answered with, without its string
 * round trip (that was ~8 ms of every long-window query). The value scaled to six digits is rounded in
 * binary; where that could differ from the exact decimal rounding (within a millionth of a half, or not
 * six digits after all), `toPrecision` decides. Scaling back is one exact-power division or
 * multiplication, which rounds to the double nearest the decimal, as parsing its text does.
 */
export function toSixDigits(value: number): number {
  if (value === 0) return 0;
  if (!Number.isFinite(value)) return value;
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  const shift = 5 - exponent;
  if (shift > 22 || shift < -22) return Number(value.toPrecision(6));
  const scaled = shift >= 0 ? value * (POWERS[shift] as number) : value / (POWERS[-shift] as number);
  const whole = Math.floor(scaled);
  const fraction = scaled - whole;
  if (Math.abs(fraction - 0.5) < 1e-6) return Number(value.toPrecision(6));
  const digits = fraction > 0.5 ? whole + 1 : whole;
  const magnitude = Math.abs(digits);
  if (magnitude < 100_000 || magnitude >= 1_000_000) return Number(value.toPrecision(6));
  return shift >= 0 ? digits / (POWERS[shift] as number) : digits * (POWERS[-shift] as number);
}
