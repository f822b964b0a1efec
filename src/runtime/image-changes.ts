/** What a container run from an image changed in its own layer (husk diff), apart from container.ts so that create and run do not load the image store. */
import { type Change, layerChanges } from '../image/diff.js';
import { ImageStore } from '../image/store.js';
import { type RuntimeOptions, imageLowers } from './container.js';
import { ContainerError } from './errors.js';
import { StateStore } from './state.js';

/** What a container run from an image changed in it (husk diff). */
export function containerChanges(rt: RuntimeOptions, id: string): Change[] {
  const record = new StateStore(rt.root).read(id);
  if (record.image === undefined) throw new ContainerError(`container "${id}" was not made from an image: it has no layer of its own`, 'EINVAL');
  const images = new ImageStore(record.image.store);
  const image = images.listImages().find((i) => i.id === record.image!.id);
  if (image === undefined) throw new ContainerError(`container "${id}": its image ${record.image.id} is gone from ${record.image.store}`, 'ENOTFOUND');
  return layerChanges(`${record.image.layer}/upper`, imageLowers(images, image));
}
