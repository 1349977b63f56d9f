import { type DeviceList, listDevices } from '@convene/client';
import { useEffect, useState } from 'preact/hooks';

const EMPTY: DeviceList = { cameras: [], microphones: [] };

/**
 * The cameras and microphones, refreshed when devices are plugged in or out and whenever
 * `refreshKey` changes (labels appear only once the user granted access, so callers pass
 * something that changes when local media is (re)opened).
 */
export function useDevices(refreshKey: unknown): DeviceList {
  const [devices, setDevices] = useState<DeviceList>(EMPTY);
  // refreshKey only triggers a new listing.
  useEffect(() => {
    let current = true;
    const refresh = () => {
      listDevices().then(
        (list) => {
          if (current) setDevices(list);
        },
        () => {
          if (current) setDevices(EMPTY);
        },
      );
    };
    refresh();
    const mediaDevices = navigator.mediaDevices as MediaDevices | undefined;
    mediaDevices?.addEventListener('devicechange', refresh);
    return () => {
      current = false;
      mediaDevices?.removeEventListener('devicechange', refresh);
    };
  }, [refreshKey]);
  return devices;
}
