export const name = 'room page';
export async function run() {}
