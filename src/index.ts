/**
 * husk as a library: the container lifecycle of the runc CLI as functions, for
 * long-lived Node processes that should not spawn the CLI per container.
 *
 *   import { createContainer, startContainer, deleteContainer } from 'husk';
 *   const rt = { root: '/run/husk' };
 *   const c = await createContainer(rt, { id: 'web', bundle: '/srv/bundles/web' });
 *   await startContainer(rt, 'web');
 *   const exit = await c.init.wait();      // this process is the init's parent
 *   await deleteContainer(rt, 'web');
 */
export {
  createContainer,
  startContainer,
  containerState,
  containerProcesses,
  containerCgroup,
  killContainer,
  deleteContainer,
  runContainer,
  listContainers,
  type RuntimeOptions,
  type CreateOptions,
  type RunOptions,
  type Container,
  type ListEntry,
} from './runtime/container.js';
export { containerChanges } from './runtime/image-changes.js';
export type { ImageRunOptions } from './runtime/image-spec.js';
export {
  pullImage,
  importImage,
  listImages,
  inspectImage,
  removeImage,
  ImageError,
  type StoreOptions,
  type ImageRecord,
  type ImageConfig,
  type PullOptions,
  type PullEvent,
  type ImportOptions,
} from './image/index.js';
export { spawn, type SpawnOptions, type SpawnedProcess } from './runtime/spawn.js';
export { execInContainer, type ExecOptions } from './runtime/exec.js';
export { pauseContainer, resumeContainer, updateContainer, containerStats } from './runtime/resources.js';
export type { CgroupStats, LinuxResources } from './cgroups/index.js';
export { containerTop, containerProcessTree, type PsTable, type TreeNode } from './ps/index.js';
export { hostRootfsSpec } from './runtime/host-rootfs.js';
export { exitStatusCode, type Exit } from './runtime/child.js';
export { HuskError, type HuskErrorContext } from './errors.js';
export { SetupError, ContainerError } from './runtime/errors.js';
export { native, constants, type HuskNative, type SystemError } from './native/index.js';
export * as spec from './spec/index.js';
