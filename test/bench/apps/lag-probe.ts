// The idle bench's yardstick for one part of the server: only the process collector (with its event-loop lag
// readings) in an otherwise idle Node process.
import { processCollector } from '../../../server/collect/process.js';

const collector = processCollector(1000);
setInterval(() => collector.sample(Date.now()), 1000);
process.on('SIGTERM', () => process.exit(0));
process.stdout.write('lag probe running\n');
