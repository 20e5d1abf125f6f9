// The image every engine test runs.

/** Built locally by scripts/test-images.sh (nothing is pulled); the quick-start catalog names the same image. */
export const TEST_IMAGE = "platformctl-test/busybox:1";
